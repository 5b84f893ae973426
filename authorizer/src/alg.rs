//! JWS algorithms we recognise, and sets of them (what a key allows).
//!
//! Our own enum rather than `jsonwebtoken::Algorithm` because that one has no ES512 and
//! deserialises `alg` itself; we want to see the raw header value first (`none`, HS*).

use jsonwebtoken::Algorithm;

/// A JWS `alg` value we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// ECDSA P-521 with SHA-512.
    ES512,
    /// Ed25519.
    EdDSA,
    /// HMAC with SHA-256 (only with a configured shared secret).
    HS256,
    /// HMAC with SHA-384 (only with a configured shared secret).
    HS384,
    /// HMAC with SHA-512 (only with a configured shared secret).
    HS512,
}

impl Alg {
    /// Every algorithm, in bit order.
    pub const ALL: [Alg; 13] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
    ];

    /// Parses a header or JWK `alg` value (case-sensitive, RFC 7518). `none` is not an algorithm here.
    pub fn parse(s: &str) -> Option<Alg> {
        Some(match s {
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "ES512" => Alg::ES512,
            "EdDSA" => Alg::EdDSA,
            "HS256" => Alg::HS256,
            "HS384" => Alg::HS384,
            "HS512" => Alg::HS512,
            _ => return None,
        })
    }

    /// The RFC 7518 name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }

    /// The jsonwebtoken equivalent, where jsonwebtoken implements it (not ES512).
    pub fn to_jwt(self) -> Option<Algorithm> {
        Some(match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::RS384 => Algorithm::RS384,
            Alg::RS512 => Algorithm::RS512,
            Alg::PS256 => Algorithm::PS256,
            Alg::PS384 => Algorithm::PS384,
            Alg::PS512 => Algorithm::PS512,
            Alg::ES256 => Algorithm::ES256,
            Alg::ES384 => Algorithm::ES384,
            Alg::EdDSA => Algorithm::EdDSA,
            Alg::HS256 => Algorithm::HS256,
            Alg::HS384 => Algorithm::HS384,
            Alg::HS512 => Algorithm::HS512,
            Alg::ES512 => return None,
        })
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of algorithms (what one key may verify).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlgSet(u16);

impl AlgSet {
    /// RSA keys without `alg`: PKCS#1 v1.5 and PSS with any hash.
    pub const RSA: AlgSet = AlgSet::of(&[
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
    ]);
    /// HMAC secrets without a pinned `alg`.
    pub const HMAC: AlgSet = AlgSet::of(&[Alg::HS256, Alg::HS384, Alg::HS512]);

    /// The set of the given algorithms.
    pub const fn of(algs: &[Alg]) -> AlgSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < algs.len() {
            bits |= 1 << (algs[i] as u16);
            i += 1;
        }
        AlgSet(bits)
    }

    /// A set holding only `alg`.
    pub fn single(alg: Alg) -> AlgSet {
        AlgSet(alg.bit())
    }

    /// Whether `alg` is in the set.
    pub fn contains(self, alg: Alg) -> bool {
        self.0 & alg.bit() != 0
    }

    /// Whether the two sets share an algorithm.
    pub fn intersects(self, other: AlgSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The algorithms in the set.
    pub fn iter(self) -> impl Iterator<Item = Alg> {
        Alg::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_every_alg() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.as_str()), Some(alg));
        }
    }

    #[test]
    fn parse_none_and_lowercase_is_rejected() {
        for s in ["none", "None", "rs256", "", "RS1", "ES256K"] {
            assert_eq!(Alg::parse(s), None, "{s}");
        }
    }

    #[test]
    fn rsa_set_contains_only_rsa_algs() {
        assert!(AlgSet::RSA.contains(Alg::PS512));
        assert!(!AlgSet::RSA.contains(Alg::ES256));
        assert!(!AlgSet::RSA.contains(Alg::HS256));
        assert_eq!(AlgSet::RSA.iter().count(), 6);
    }

    #[test]
    fn single_set_contains_only_that_alg() {
        let set = AlgSet::single(Alg::ES384);
        assert!(set.contains(Alg::ES384));
        assert!(!set.contains(Alg::ES256));
        assert!(!set.intersects(AlgSet::HMAC));
    }
}
