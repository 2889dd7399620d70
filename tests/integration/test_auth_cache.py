"""The auth role remembers a successful Argon2id check for a few minutes
(auth/auth_cache.h): the same login and password pass again without it,
while a wrong password after a good one still fails (and still counts
toward the lockout), and a good one is still accepted after that."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness                                  # noqa: E402
from harness import USER, PASSWORD              # noqa: E402


class AuthCache(harness.SubmitdTest):

    def login(self, password):
        c = self.session(user=None)
        return c.auth_plain(USER, password)

    def test_wrong_password_after_a_good_one_fails(self):
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        r = self.login(PASSWORD + "x")
        self.assertReply(r, "535 5.7.8")
        r = self.login(PASSWORD[:-1])
        self.assertReply(r, "535 5.7.8")
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        r = self.login("")
        self.assertNotEqual(r.code, 235)

    def test_other_user_with_the_same_password_is_not_let_in(self):
        r = self.login(PASSWORD)
        self.assertReply(r, "235 2.7.0")
        c = self.session(user=None)
        self.assertReply(c.auth_plain(harness.USER2, PASSWORD), "535 5.7.8")


if __name__ == "__main__":
    unittest.main()
