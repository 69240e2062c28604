//! COL-1: source credentials sealed with SM4-GCM under the deployment's key, bound to their owner.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm4::Sm4;

use crate::ConnectorError;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag, as in
/// RFC 8998 (GB/T 36624 AEAD mode over the GB/T 32907 block cipher).
type Sm4Gcm = AesGcm<Sm4, U12>;

const NONCE_LEN: usize = 12;
const TEXT_PREFIX: &str = "sm4gcm:v1:";

/// COL-1: a password or HTTP token sealed with SM4-GCM under the deployment's key.
///
/// `ciphertext` holds the encrypted text followed by the 16-byte tag. Its text
/// form is `sm4gcm:v1:<hex nonce>:<hex ciphertext>`; serde uses that form too.
/// Nothing here is secret, so it may be stored and logged; opening needs the
/// key and the same associated data it was sealed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl SealedSecret {
    /// The storable text form, `sm4gcm:v1:<hex nonce>:<hex ciphertext>`.
    pub fn to_text(&self) -> String {
        format!(
            "{TEXT_PREFIX}{}:{}",
            hex::encode(&self.nonce),
            hex::encode(&self.ciphertext)
        )
    }

    /// Parses the text form; anything else is `connector.secret_invalid`.
    pub fn from_text(text: &str) -> Result<Self, ConnectorError> {
        let rest = text
            .trim()
            .strip_prefix(TEXT_PREFIX)
            .ok_or(ConnectorError::SecretInvalid)?;
        let (nonce, ciphertext) = rest.split_once(':').ok_or(ConnectorError::SecretInvalid)?;
        let nonce = hex::decode(nonce).map_err(|_| ConnectorError::SecretInvalid)?;
        let ciphertext = hex::decode(ciphertext).map_err(|_| ConnectorError::SecretInvalid)?;
        if nonce.len() != NONCE_LEN || ciphertext.len() < 16 {
            return Err(ConnectorError::SecretInvalid);
        }
        Ok(Self { nonce, ciphertext })
    }
}

impl fmt::Display for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl FromStr for SealedSecret {
    type Err = ConnectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_text(s)
    }
}

impl Serialize for SealedSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for SealedSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_text(&text).map_err(serde::de::Error::custom)
    }
}

/// COL-1: the deployment's 128-bit SM4 key that seals source credentials.
/// `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 16]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The key's bytes, for callers that key another primitive with it (the egress
    /// gate's SM3 pseudonyms).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Reads the key from a file of 32 hex characters (surrounding whitespace
    /// allowed). If the file does not exist, a new key is generated and
    /// written there (mode 0600 on unix, parent folders created). A file that
    /// exists but does not hold a key is an error, never overwritten: losing
    /// the key makes every stored secret unreadable.
    pub fn load_or_create(path: &Path) -> Result<Self, ConnectorError> {
        let key_error = |detail: String| ConnectorError::KeyFile {
            path: path.display().to_string(),
            detail,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse_hex(text.trim()).map_err(key_error),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(key_error(e.to_string())),
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| key_error(e.to_string()))?;
        }
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{}\n", hex::encode(key.0)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| key_error(e.to_string()))?;
                Ok(key)
            }
            // Another process created it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| key_error(e.to_string()))?;
                Self::parse_hex(text.trim()).map_err(key_error)
            }
            Err(e) => Err(key_error(e.to_string())),
        }
    }

    fn parse_hex(text: &str) -> Result<Self, String> {
        let mut bytes = [0u8; 16];
        if text.len() != 32 {
            return Err(format!(
                "expected 32 hex characters, found {} characters",
                text.len()
            ));
        }
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| "the key is not hexadecimal".to_string())?;
        Ok(Self(bytes))
    }

    fn cipher(&self) -> Sm4Gcm {
        Sm4Gcm::new(&self.0.into())
    }

    /// Seals `plaintext` under a fresh random nonce. `associated` binds the
    /// secret to its owner (the platform passes the resource id): opening with
    /// any other associated data fails.
    pub fn seal(&self, plaintext: &str, associated: &[u8]) -> SealedSecret {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated,
                },
            )
            // Only fails past GCM's length limits (2^36 bytes), far beyond any secret.
            .expect("SM4-GCM sealing of a short secret cannot fail");
        SealedSecret {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Opens a sealed secret; a wrong key, wrong associated data or a damaged
    /// secret is `connector.secret_invalid`.
    pub fn open(&self, sealed: &SealedSecret, associated: &[u8]) -> Result<String, ConnectorError> {
        let nonce: [u8; NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| ConnectorError::SecretInvalid)?;
        let plaintext = self
            .cipher()
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: associated,
                },
            )
            .map_err(|_| ConnectorError::SecretInvalid)?;
        String::from_utf8(plaintext).map_err(|_| ConnectorError::SecretInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 8998 Appendix A.1, SM4-GCM.
    #[test]
    fn col_1_sm4_gcm_matches_rfc_8998_vector() {
        let key: [u8; 16] = unhex("0123456789ABCDEFFEDCBA9876543210")
            .try_into()
            .unwrap();
        let nonce: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
        let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plaintext = unhex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let expected = unhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
             83DE3541E4C2B58177E065A9BF7B62EC",
        );
        let cipher = SecretKey::from_bytes(key).cipher();
        let sealed = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(hex::encode_upper(&sealed), hex::encode_upper(&expected));
        let opened = cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &expected,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(opened, plaintext);
    }

    #[test]
    fn col_1_sealed_secret_opens_only_for_its_owner() {
        let key = SecretKey::generate();
        let sealed = key.seal("口令-p@ss", b"resource:42");
        assert_eq!(sealed.nonce.len(), 12);
        assert_eq!(sealed.ciphertext.len(), "口令-p@ss".len() + 16);
        assert_eq!(key.open(&sealed, b"resource:42").unwrap(), "口令-p@ss");

        let moved = key.open(&sealed, b"resource:43").unwrap_err();
        assert_eq!(moved.code(), "connector.secret_invalid");
        let other_key = SecretKey::generate();
        assert!(other_key.open(&sealed, b"resource:42").is_err());
        let mut damaged = sealed.clone();
        damaged.ciphertext[0] ^= 1;
        assert!(key.open(&damaged, b"resource:42").is_err());

        // Same plaintext, fresh nonce each time.
        assert_ne!(key.seal("口令-p@ss", b"resource:42"), sealed);
    }

    #[test]
    fn col_1_sealed_secret_text_form_round_trips() {
        let key = SecretKey::generate();
        let sealed = key.seal("token", b"r1");
        let text = sealed.to_text();
        assert!(text.starts_with("sm4gcm:v1:"));
        assert!(!text.contains("token"));
        let back: SealedSecret = text.parse().unwrap();
        assert_eq!(back, sealed);
        assert_eq!(key.open(&back, b"r1").unwrap(), "token");
        let json = serde_json::to_string(&sealed).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<SealedSecret>(&json).unwrap(), sealed);
        for bad in [
            "",
            "sm4gcm:v1:zz:00",
            "sm4gcm:v2:00:00",
            "sm4gcm:v1:0011:00",
        ] {
            assert_eq!(
                SealedSecret::from_text(bad).unwrap_err().code(),
                "connector.secret_invalid"
            );
        }
    }

    #[test]
    fn col_1_secret_key_debug_is_redacted() {
        let key = SecretKey::from_bytes([0xab; 16]);
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }

    #[test]
    fn col_1_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!(
            "gongshu-connectors-key-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let path = dir.join("sub").join("source.key");
        let key = SecretKey::load_or_create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(again.0, key.0);
        let sealed = key.seal("pw", b"r");
        assert_eq!(again.open(&sealed, b"r").unwrap(), "pw");

        std::fs::write(&path, "not a key").unwrap();
        let err = SecretKey::load_or_create(&path).unwrap_err();
        assert_eq!(err.code(), "connector.key_file");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
