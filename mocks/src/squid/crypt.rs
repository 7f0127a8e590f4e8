//! SHA-256-crypt (`$5$salt$hash`, Ulrich Drepper's specification): a password hash
//! squid's `basic_ncsa_auth` accepts, since it compares with the C library's `crypt(3)`.
//! (Checked on Debian's squid 5.7: `$5$` and `$1$` lines are both accepted.)

use sha2::{Digest, Sha256};

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ROUNDS: usize = 5000;

/// `$5$SALT$HASH` of `password` (default 5000 rounds); `salt` is cut to 16 characters.
pub fn sha256_crypt(password: &str, salt: &str) -> String {
    let pw = password.as_bytes();
    let salt = &salt.as_bytes()[..salt.len().min(16)];
    let b = Sha256::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut a = Sha256::new().chain_update(pw).chain_update(salt);
    let mut n = pw.len();
    while n > 32 {
        a.update(b);
        n -= 32;
    }
    a.update(&b[..n]);
    let mut n = pw.len();
    while n > 0 {
        if n & 1 == 1 {
            a.update(b);
        } else {
            a.update(pw);
        }
        n >>= 1;
    }
    let a = a.finalize();
    let mut dp = Sha256::new();
    for _ in 0..pw.len() {
        dp.update(pw);
    }
    let dp = dp.finalize();
    let p: Vec<u8> = dp.iter().cycle().take(pw.len()).copied().collect();
    let mut ds = Sha256::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(salt);
    }
    let ds = ds.finalize();
    let s: Vec<u8> = ds.iter().cycle().take(salt.len()).copied().collect();
    let mut c = a;
    for i in 0..ROUNDS {
        let mut ctx = Sha256::new();
        if i & 1 == 1 {
            ctx.update(&p);
        } else {
            ctx.update(c);
        }
        if i % 3 != 0 {
            ctx.update(&s);
        }
        if i % 7 != 0 {
            ctx.update(&p);
        }
        if i & 1 == 1 {
            ctx.update(c);
        } else {
            ctx.update(&p);
        }
        c = ctx.finalize();
    }
    let mut out = format!("$5${}$", String::from_utf8_lossy(salt));
    let groups: [(usize, usize, usize); 10] = [
        (0, 10, 20),
        (21, 1, 11),
        (12, 22, 2),
        (3, 13, 23),
        (24, 4, 14),
        (15, 25, 5),
        (6, 16, 26),
        (27, 7, 17),
        (18, 28, 8),
        (9, 19, 29),
    ];
    for (x, y, z) in groups {
        push_b64(&mut out, c[x], c[y], c[z], 4);
    }
    push_b64(&mut out, 0, c[31], c[30], 3);
    out
}

/// A random 16-character salt.
pub fn random_salt() -> String {
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .map(|b| char::from(ITOA64[usize::from(b % 64)]))
        .collect()
}

fn push_b64(out: &mut String, b2: u8, b1: u8, b0: u8, n: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..n {
        out.push(char::from(ITOA64[(w & 0x3f) as usize]));
        w >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_openssl_passwd_5() {
        // `openssl passwd -5 -salt abcdefgh canary-pw`
        assert_eq!(
            sha256_crypt("canary-pw", "abcdefgh"),
            "$5$abcdefgh$IszSqfqLUl8nhXx5Ys2nPy6a75iLCyGxuM5vAAuczgA"
        );
    }

    #[test]
    fn drepper_test_vector_and_long_inputs() {
        // Drepper's first vector; the second checks the > 32 byte password and the
        // 16-character salt cut (both as `openssl passwd -5` prints them).
        assert_eq!(
            sha256_crypt("Hello world!", "saltstring"),
            "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
        assert_eq!(
            sha256_crypt(
                "a-much-longer-password-of-more-than-32-bytes-canary",
                "0123456789abcdefXYZ"
            ),
            "$5$0123456789abcdef$shxfx9IakB6y/A.ugMbkmDjqTs9GMMCBBKcEIdiwA7C"
        );
    }
}
