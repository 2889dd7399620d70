#!/usr/bin/python3
"""make_corpus.py — writes the corpus of awkward messages for the DKIM tests.

    make_corpus.py OUTDIR [--big]

Each message is written as OUTDIR/NN-name.eml with CRLF line ends, exactly
as the daemon would hand it to the signer (dot-stuffing already undone).
--big adds the 20 MB message (generated, never committed).  The messages
are built here rather than committed because trailing spaces, tabs, CRs and
8-bit octets do not survive editors and git settings reliably.
"""
import base64
import os
import random
import sys

CRLF = b"\r\n"


def msg(headers, body, sep=True):
    """Header lines (bytes, without CRLF), body (bytes, CRLF already)."""
    out = CRLF.join(headers) + CRLF
    if sep:
        out += CRLF + body
    return out


def std(subject=b"Test", extra=()):
    return [b"From: Alice Example <alice@example.org>",
            b"To: Bob <bob@example.net>",
            b"Subject: " + subject,
            b"Date: Sun, 29 Nov 2026 14:00:00 +0000",
            b"Message-ID: <%d@example.org>" % random.randrange(10**9)] + list(extra)


def lines(*ls):
    return b"".join(l + CRLF for l in ls)


def attachment(size, seed):
    rnd = random.Random(seed)
    data = bytes(rnd.randrange(256) for _ in range(size))
    b64 = base64.encodebytes(data).replace(b"\n", CRLF)
    return b64


def corpus():
    random.seed(8463)
    m = {}
    m["plain"] = msg(std(), lines(b"Hello Bob.", b"", b"-- ", b"Alice"))
    m["folded-headers"] = msg(std(b"a subject\r\n that is folded\r\n\tthree times\r\n   here", [
        b"Cc: one@example.net,\r\n two@example.net,\r\n\tthree@example.net"]),
        lines(b"body"))
    m["long-header"] = msg(std(b"x" * 900), lines(b"long subject above"))
    m["long-folded-references"] = msg(std(extra=[
        b"References: " + b"\r\n ".join(b"<%d.%d@example.org>" % (i, i * 7) for i in range(120)),
        b"In-Reply-To: <119.833@example.org>"]), lines(b"reply"))
    m["tabs"] = msg(std(b"tabs\there\t\tand\tthere"),
                    lines(b"\tindented", b"a\tb\t\tc", b"\t\t"))
    m["trailing-spaces"] = msg(std(b"trailing   "), lines(b"line one   ", b"line two\t ", b"  "))
    m["empty-body"] = msg(std(), b"")
    m["no-body-separator"] = msg(std(), b"", sep=False)
    m["only-blank-lines"] = msg(std(), CRLF * 7)
    m["only-white-lines"] = msg(std(), lines(b" ", b"\t", b"  \t  ", b""))
    m["utf8-headers"] = msg([
        b"From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.org>",
        b"To: \xc3\x89lodie <elodie@example.net>",
        b"Subject: \xc3\xa9t\xc3\xa9 \xe2\x98\x80 \xf0\x9f\x8c\x9e caf\xc3\xa9",
        b"Date: Sun, 29 Nov 2026 14:00:00 +0000",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit"],
        lines("Grüße aus Köln — «ça va» 日本語".encode()))
    m["utf8-body"] = msg(std(extra=[b"MIME-Version: 1.0",
                                    b"Content-Type: text/plain; charset=utf-8",
                                    b"Content-Transfer-Encoding: 8bit"]),
                         lines("Ünïcödé  bödy   with  runs".encode(), "ℝ² → ∞  ".encode()))
    m["multipart-alternative"] = msg(std(extra=[
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/alternative; boundary="b1"']),
        lines(b"--b1", b"Content-Type: text/plain", b"", b"plain  text ", b"--b1",
              b"Content-Type: text/html", b"", b"<p>html</p>", b"--b1--"))
    m["multipart-attachment"] = msg(std(extra=[
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="=_x"']),
        lines(b"This is a multi-part message in MIME format.", b"--=_x",
              b"Content-Type: text/plain; charset=us-ascii", b"", b"see attached", b"--=_x",
              b'Content-Type: application/octet-stream; name="blob.bin"',
              b"Content-Transfer-Encoding: base64",
              b'Content-Disposition: attachment; filename="blob.bin"', b"") +
        attachment(50000, 1) + lines(b"--=_x--"))
    m["line-998"] = msg(std(), lines(b"a" * 998, b"b" * 997 + b" ", b" " * 998, b"end"))
    m["header-998"] = msg(std(extra=[b"X-Long: " + b"y" * (998 - 8)]), lines(b"x"))
    m["uppercase-names"] = msg([b"FROM: alice@example.org", b"TO: bob@example.net",
                                b"SUBJECT: SHOUT", b"DATE: Sun, 29 Nov 2026 14:00:00 +0000",
                                b"MESSAGE-ID: <UP@EXAMPLE.ORG>"], lines(b"BODY"))
    m["mixedcase-names"] = msg([b"fRoM: alice@example.org", b"tO: bob@example.net",
                                b"sUbJeCt: mixed", b"content-TYPE: text/plain"], lines(b"b"))
    m["repeated-headers"] = msg([b"Received: from a by b; Sun, 29 Nov 2026 13:00:00 +0000",
                                 b"Received: from c by d; Sun, 29 Nov 2026 13:30:00 +0000",
                                 b"From: alice@example.org",
                                 b"To: one@example.net", b"To: two@example.net",
                                 b"Cc: three@example.net", b"Cc: four@example.net",
                                 b"Subject: twice?", b"Comments: one", b"Comments: two"],
                                lines(b"repeated"))
    m["dot-lines"] = msg(std(), lines(b".", b"..", b".leading dot", b"..two dots",
                                      b". space", b"end."))
    m["no-final-crlf"] = msg(std(), b"last line without CRLF")
    m["no-final-crlf-spaces"] = msg(std(), b"line\r\nlast  \t ")
    m["many-trailing-crlf"] = msg(std(), lines(b"text") + CRLF * 50)
    m["leading-blank-lines"] = msg(std(), CRLF * 3 + lines(b"after blanks"))
    m["wsp-runs"] = msg(std(b"a   b \t c"), lines(b"a     b", b"  lead", b"mid \t \t end"))
    m["empty-subject"] = msg(std(b""), lines(b"empty subject"))
    m["many-headers"] = msg(std(extra=[b"X-H%d: value %d" % (i, i) for i in range(200)]),
                            lines(b"many"))
    m["quoted-printable"] = msg(std(extra=[
        b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: quoted-printable"]),
        lines(b"soft line break =", b"continued=20", b"=C3=A9t=C3=A9 =3D equal"))
    m["all-signed-headers"] = msg(std(extra=[
        b"Reply-To: replies@example.org", b"Cc: cc@example.net",
        b"In-Reply-To: <0@example.net>", b"References: <0@example.net>",
        b"MIME-Version: 1.0", b"Content-Type: text/plain", b"Content-Transfer-Encoding: 7bit"]),
        lines(b"every header we sign"))
    m["list-headers"] = msg(std(extra=[
        b"List-Id: Team <team.example.org>",
        b"List-Unsubscribe: <mailto:leave@example.org>, <https://example.org/u>",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        b"List-Post: <mailto:team@example.org>"]), lines(b"list mail"))
    m["control-chars"] = msg(std(), lines(b"form\x0cfeed", b"bell\x07", b"nul-free"))
    m["whitespace-fold-line"] = msg(std(b"a\r\n \r\n b"), lines(b"x"))
    m["one-mb-body"] = msg(std(), b"".join(b"line %07d with  some   text \t\r\n" % i
                                           for i in range(33000)))
    m["header-wsp-before-colon"] = msg([b"From: alice@example.org", b"Subject : spaced",
                                        b"To:\tbob@example.net", b"X-Empty:"], lines(b"y"))
    return m


def big():
    """About 20 MB: text lines, runs of blanks, long lines, a base64 part."""
    head = msg(std(b"the 20 MB one", [b"MIME-Version: 1.0",
                                      b'Content-Type: multipart/mixed; boundary="big"']), b"")
    parts = [lines(b"--big", b"Content-Type: text/plain", b"")]
    row = b"The quick brown fox  jumps \t over the lazy dog 0123456789 " * 16 + b"   \r\n"
    parts.append(row * (12 * 1024 * 1024 // len(row)))
    parts.append(lines(b"--big", b"Content-Type: application/octet-stream",
                       b"Content-Transfer-Encoding: base64", b""))
    chunk = attachment(57 * 1000, 2)
    parts.append(chunk * (8 * 1024 * 1024 // len(chunk)))
    parts.append(lines(b"--big--") + CRLF * 3)
    return head + b"".join(parts)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make_corpus.py OUTDIR [--big]")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for i, (name, data) in enumerate(corpus().items(), 1):
        with open(os.path.join(out, "%02d-%s.eml" % (i, name)), "wb") as f:
            f.write(data)
    if "--big" in sys.argv[2:]:
        with open(os.path.join(out, "99-twenty-mb.eml"), "wb") as f:
            f.write(big())


if __name__ == "__main__":
    main()
