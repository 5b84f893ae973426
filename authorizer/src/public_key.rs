//! Public verification keys (RSA, EC P-256/384/521, Ed25519), verified with aws-lc-rs.
//!
//! jsonwebtoken re-reads the key on every verification (an RSA `n`/`e` pair becomes an
//! `EVP_PKEY` each time). Here each key is parsed once per algorithm, on first use, and the
//! parsed key is kept with the JWK for as long as the key set lives.

use std::sync::OnceLock;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};

use crate::alg::Alg;

/// Asymmetric algorithms come first in [`Alg`]; one parsed-key slot for each.
const SLOTS: usize = Alg::EdDSA as usize + 1;

/// A public key as published, with its parsed forms.
pub struct PublicKey {
    raw: Raw,
    /// Parsed per algorithm (one RSA key may serve six): `None` inside when aws-lc-rs rejects
    /// the key for that algorithm.
    parsed: Box<[OnceLock<Option<ParsedPublicKey>>; SLOTS]>,
}

enum Raw {
    /// Modulus and exponent, big-endian, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed EC point (`0x04 || x || y`) or an Ed25519 public key.
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.raw {
            Raw::Rsa { n, .. } => format!("RSA {} bits", n.len() * 8),
            Raw::Bytes(bytes) => format!("{} bytes", bytes.len()),
        };
        f.debug_struct("PublicKey").field("raw", &kind).finish()
    }
}

impl PublicKey {
    /// An RSA key from its modulus and exponent.
    pub fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::new(Raw::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// An EC key (uncompressed point) or an Ed25519 key (32 bytes).
    pub fn bytes(bytes: Vec<u8>) -> Self {
        Self::new(Raw::Bytes(bytes))
    }

    fn new(raw: Raw) -> Self {
        Self {
            raw,
            parsed: Box::new(std::array::from_fn(|_| OnceLock::new())),
        }
    }

    /// Whether `signature` (raw bytes, JWS encoding) over `message` verifies with this key
    /// under `alg`. False for an algorithm that does not fit the key.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        let Some(slot) = self.parsed.get(alg as usize) else {
            return false;
        };
        slot.get_or_init(|| self.parse(alg))
            .as_ref()
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }

    fn parse(&self, alg: Alg) -> Option<ParsedPublicKey> {
        match &self.raw {
            Raw::Rsa { n, e } => {
                let params: &'static RsaParameters = match alg {
                    Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .to_parsed_public_key(params)
                .ok()
            }
            Raw::Bytes(bytes) => {
                let algorithm: &'static dyn signature::VerificationAlgorithm = match alg {
                    Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    Alg::ES512 => &signature::ECDSA_P521_SHA512_FIXED,
                    Alg::EdDSA => &signature::ED25519,
                    _ => return None,
                };
                ParsedPublicKey::new(algorithm, bytes).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    };

    use super::*;

    #[test]
    fn ec_key_verifies_repeatedly_and_only_its_algorithm() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let sig = pair.sign(&SystemRandom::new(), b"message").unwrap();
        let key = PublicKey::bytes(pair.public_key().as_ref().to_vec());
        for _ in 0..2 {
            assert!(key.verify(Alg::ES256, b"message", sig.as_ref()));
            assert!(!key.verify(Alg::ES256, b"messagE", sig.as_ref()));
        }
        assert!(!key.verify(Alg::ES384, b"message", sig.as_ref()));
        assert!(!key.verify(Alg::RS256, b"message", sig.as_ref()));
        assert!(!key.verify(Alg::HS256, b"message", sig.as_ref()));
    }

    #[test]
    fn es512_key_verifies_and_rejects_truncated_signature() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P521_SHA512_FIXED_SIGNING).unwrap();
        let sig = pair.sign(&SystemRandom::new(), b"message").unwrap();
        let key = PublicKey::bytes(pair.public_key().as_ref().to_vec());
        assert!(key.verify(Alg::ES512, b"message", sig.as_ref()));
        assert!(!key.verify(Alg::ES512, b"message", &sig.as_ref()[..131]));
    }

    #[test]
    fn invalid_point_never_verifies() {
        let key = PublicKey::bytes(vec![4; 65]);
        assert!(!key.verify(Alg::ES256, b"message", &[0; 64]));
    }
}
