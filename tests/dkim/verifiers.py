"""verifiers.py — DKIM helpers for the integration tests: submitctl's
keygen/sign/verify, and the three independent verifiers fed keys offline:
dkimpy (python3-dkim), OpenDKIM (tests/dkim/opendkim_verify.c, built here
with -lopendkim) and Perl Mail::DKIM (tests/dkim/mail_dkim_verify.pl).

Import it with sys.path.insert(0, <repo>/tests/dkim).  Keys are given as a
dict {"SELECTOR._domainkey.DOMAIN": "v=DKIM1; k=...; p=..."}.
"""
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
SUBMITCTL = os.path.join(BUILD, "submitctl")
PY = "/usr/bin/python3"


def testdata_dir():
    """$SUBMITD_TESTDATA, else <repository>/tests/testdata."""
    env = os.environ.get("SUBMITD_TESTDATA")
    if env:
        return env
    return os.path.join(REPO, "tests", "testdata")


def ctl(*args, data=b""):
    """Runs submitctl ARGS with DATA on stdin: CompletedProcess (bytes)."""
    return subprocess.run([SUBMITCTL] + list(args), input=data, capture_output=True,
                          timeout=120)


def parse_txt(line):
    """'NAME. IN TXT "a" "b"' -> (NAME, "ab", ["a", "b"])."""
    m = re.match(r'^(\S+)\. IN TXT((?: "[^"]*")+)\n?$', line)
    if not m:
        raise ValueError("not a TXT record line: %r" % line)
    strings = re.findall(r'"([^"]*)"', m.group(2))
    return m.group(1), "".join(strings), strings


def keygen(alg, domain, selector, path, bits=None):
    """submitctl dkim keygen; returns (name, record, strings)."""
    args = ["dkim", "keygen", "-a", alg, "-d", domain, "-s", selector, "-o", path]
    if bits:
        args += ["-b", str(bits)]
    p = ctl(*args)
    if p.returncode != 0:
        raise RuntimeError("keygen: %s" % p.stderr.decode())
    return parse_txt(p.stdout.decode())


def sign(msg, domain, selector, key, canon="relaxed", t=1700000000, alg=None):
    args = ["dkim", "sign", "-d", domain, "-s", selector, "-k", key, "-c", canon,
            "-t", str(t)]
    if alg:
        args += ["-a", alg]
    p = ctl(*args, data=msg)
    if p.returncode != 0:
        raise RuntimeError("sign: %s" % p.stderr.decode())
    return p.stdout


def write_keys(path, keys):
    with open(path, "w") as f:
        for name, rec in keys.items():
            f.write("%s %s\n" % (name, rec))


def dkimpy_verify(msg, keys):
    """[(ok, detail)] for each DKIM-Signature, top first.  Debian's dkimpy
    may raise instead of returning False: that is a failure."""
    import dkim

    def dnsfunc(name, timeout=5):
        return keys.get(name.decode().rstrip("."), "").encode()

    d = dkim.DKIM(msg)
    n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    out = []
    for i in range(n):
        try:
            ok = bool(d.verify(idx=i, dnsfunc=dnsfunc))
            out.append((ok, "" if ok else "returned False"))
        except Exception as e:     # noqa: BLE001 — any exception is a failure
            out.append((False, "%s: %s" % (type(e).__name__, e)))
    return out


def build_opendkim(outdir):
    """Compiles opendkim_verify.c into OUTDIR; returns the program's path."""
    exe = os.path.join(outdir, "opendkim_verify")
    subprocess.run(["cc", "-O1", "-w", "-o", exe, os.path.join(HERE, "opendkim_verify.c"),
                    "-lopendkim"], check=True, capture_output=True, timeout=120)
    return exe


def _per_file(text):
    res = {}
    for line in text.splitlines():
        f, n, rest = line.split(" ", 2)
        res.setdefault(f, []).append((int(n), rest))
    return res


def opendkim_verify(exe, keysfile, files):
    """{file: [(n, "d=.. s=.. pass|fail ...")]}."""
    p = subprocess.run([exe, keysfile] + list(files), capture_output=True, text=True,
                       timeout=300)
    return _per_file(p.stdout)


def maildkim_verify(keysfile, files):
    """{file: [(n, "d=.. s=.. a=ALG RESULT (DETAIL)")]}."""
    p = subprocess.run(["perl", os.path.join(HERE, "mail_dkim_verify.pl"), keysfile]
                       + list(files), capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 1):
        raise RuntimeError("mail_dkim_verify.pl: %s" % p.stderr)
    return _per_file(p.stdout)
