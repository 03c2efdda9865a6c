"""The operator password policy: long enough, and not one everybody tries first.

Length beats composition rules (NIST SP 800-63B §5.1.1.2): at least 12 characters, refused
when it is a well-known password, the login itself, or one character repeated. The list holds
the common passwords of 12 characters or more from public breach corpora (and Portuguese ones
an ISP's staff would pick), lower-cased: a guesser tries these first.
"""

from __future__ import annotations

from aaa.errors import Invalid

MIN_LENGTH = 12
COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "1234567891011",
        "123123123123",
        "111111111111",
        "000000000000",
        "qwertyuiopasdfgh",
        "qwertyuiopas",
        "qwertyuiop123",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "passwordpassword",
        "password1234",
        "password12345",
        "password123456",
        "password@123",
        "p@ssw0rd1234",
        "administrator",
        "administrator1",
        "admin1234567",
        "admin123456789",
        "adminadmin123",
        "admin-change-me",
        "changeme1234",
        "letmein12345",
        "welcome12345",
        "iloveyou1234",
        "abc123456789",
        "abcdefghijkl",
        "abcd12345678",
        "senha1234567",
        "senha12345678",
        "senhasenha12",
        "mudar123456789",
        "mudar@123456",
        "trocar123456",
        "provedor1234",
        "provedor@123",
        "internet1234",
        "internet@123",
        "mikrotik1234",
        "mikrotik@123",
        "radius123456",
        "brasil123456",
        "flamengo1234",
        "corinthians1",
        "corinthians123",
        "palmeiras123",
    }
)


def check_policy(password: str, login: str = "") -> None:
    """Raise Invalid saying what to fix."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"the password must have at least {MIN_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON:
        raise Invalid("this password is on the list of common passwords; choose another")
    if login and lowered.startswith(login.lower()) and len(set(lowered[len(login) :])) < 4:
        raise Invalid("the password must not be the login (with a few characters added)")
    if len(set(password)) < 4:
        raise Invalid("the password must not be one or a few characters repeated")
