//! ES512 (ECDSA P-521 with SHA-512), which jsonwebtoken does not implement, verified with
//! aws-lc-rs: the same library jsonwebtoken uses for the other algorithms.

use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED, UnparsedPublicKey};

/// Verifies a JWS ES512 signature (`r || s`, 132 bytes) over `message` with an uncompressed
/// P-521 point.
pub fn verify(point: &[u8], message: &[u8], signature: &[u8]) -> bool {
    if signature.len() != 132 {
        return false;
    }
    UnparsedPublicKey::new(&ECDSA_P521_SHA512_FIXED, point)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    #[test]
    fn es512_signature_round_trips_and_tampering_fails() {
        let key = EcdsaKeyPair::generate(&ECDSA_P521_SHA512_FIXED_SIGNING).unwrap();
        let sig = key.sign(&SystemRandom::new(), b"message").unwrap();
        let point = key.public_key().as_ref();
        assert!(verify(point, b"message", sig.as_ref()));
        assert!(!verify(point, b"messagE", sig.as_ref()));
        assert!(!verify(point, b"message", &sig.as_ref()[..131]));
        assert!(!verify(&point[..100], b"message", sig.as_ref()));
    }
}
