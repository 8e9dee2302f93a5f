//! Directory contents as stored: the JSON of [`DirectoryContent`], LZ4-compressed (a speed
//! tactic; see docs/performance.md, "The scope store").
//!
//! A run hands the store both directories whole (a million accounts is about 300 MB of
//! JSON). Serialising that into one string, hashing it and writing it made the largest
//! single allocation of a run and most of the bytes it wrote. Here the JSON is streamed
//! once, through SHA-256 (the content's identity, unchanged: the hash of the JSON) and an
//! LZ4 frame encoder at once, so the text itself never exists whole and the store keeps a
//! quarter of its size. Reading decompresses and parses as one stream.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

use super::error::{ScopeError, ScopeResult};
use super::model::DirectoryContent;

/// A directory's contents ready to store: the SHA-256 (hex) of its JSON, and that JSON
/// LZ4-compressed (frame format).
pub struct PackedContent {
    pub hash: String,
    pub packed: Vec<u8>,
    pub accounts: i64,
    pub groups: i64,
}

/// Feeds every byte written to the hash and to the compressor.
struct HashAndCompress {
    hash: Sha256,
    compressor: lz4_flex::frame::FrameEncoder<Vec<u8>>,
}

impl Write for HashAndCompress {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.hash.update(bytes);
        self.compressor.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.compressor.flush()
    }
}

/// Packs a directory's contents. The hash is the one [`DirectoryContent::encode`] gives.
pub fn pack(content: &DirectoryContent) -> ScopeResult<PackedContent> {
    let mut sink = HashAndCompress {
        hash: Sha256::new(),
        compressor: lz4_flex::frame::FrameEncoder::new(Vec::new()),
    };
    // serde_json writes small pieces; a buffer in front keeps the compressor's calls few.
    let mut writer = io::BufWriter::with_capacity(1 << 16, &mut sink);
    serde_json::to_writer(&mut writer, content)
        .map_err(|error| ScopeError::invalid(format!("a directory cannot be stored: {error}")))?;
    writer
        .flush()
        .map_err(|error| ScopeError::invalid(format!("a directory cannot be stored: {error}")))?;
    drop(writer);
    let HashAndCompress { hash, compressor } = sink;
    let packed = compressor.finish().map_err(|error| {
        ScopeError::invalid(format!("a directory cannot be compressed: {error}"))
    })?;
    Ok(PackedContent {
        hash: hex(&hash.finalize()),
        packed,
        accounts: content.accounts.len() as i64,
        groups: content.groups.len() as i64,
    })
}

/// Reads back what [`pack`] stored.
pub fn unpack(hash: &str, packed: &[u8]) -> ScopeResult<DirectoryContent> {
    let reader = io::BufReader::with_capacity(1 << 16, lz4_flex::frame::FrameDecoder::new(packed));
    serde_json::from_reader(reader).map_err(|error| {
        ScopeError::corrupt(format!("directory contents {hash} are unreadable: {error}"))
    })
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        text.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::model::{AccountRow, GroupRow};

    fn content(n: usize) -> DirectoryContent {
        DirectoryContent {
            accounts: (0..n)
                .map(|i| AccountRow {
                    id: format!("JIRAUSER{i}"),
                    username: Some(format!("user{i}")),
                    email: (i % 3 != 0).then(|| format!("user{i}@acme.example")),
                    alias_emails: vec![format!("u{i}@old.example")],
                    display_name: Some(format!("Ünïcode \"{i}\"")),
                    given_name: None,
                    family_name: Some("Doe".into()),
                    active: i % 2 == 0,
                    source_directory: None,
                    email_verified: Some(true),
                })
                .collect(),
            groups: vec![GroupRow {
                id: "g1".into(),
                name: "devs".into(),
                display_name: None,
                members: vec!["JIRAUSER1".into()],
            }],
        }
    }

    #[test]
    fn packed_contents_read_back_the_same_under_the_hash_of_their_json() {
        for n in [0, 1, 5000] {
            let content = content(n);
            let packed = pack(&content).unwrap();
            assert_eq!(packed.hash, content.encode().0);
            assert_eq!(packed.accounts, n as i64);
            assert_eq!(unpack(&packed.hash, &packed.packed).unwrap(), content);
        }
        let big = pack(&content(5000)).unwrap();
        assert!(
            big.packed.len() * 2 < content(5000).encode().1.len(),
            "compressed to {} bytes",
            big.packed.len()
        );
    }

    #[test]
    fn damaged_contents_are_refused_as_corrupt() {
        let packed = pack(&content(10)).unwrap();
        let error = unpack("h", &packed.packed[..packed.packed.len() / 2]).unwrap_err();
        assert_eq!(error.kind(), crate::scope::ErrorKind::Corrupt);
        assert!(error.message().contains("directory contents h"), "{error}");
    }
}
