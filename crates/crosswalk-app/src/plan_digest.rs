//! A speed tactic of the dry run (`docs/performance.md`): what `plan` keeps of each mapping,
//! on both sides of the comparison, is the 16-byte digest the store compares values by and
//! the two fields a row shows, never the whole value (evidence, candidates, both sides'
//! fields). At a million mappings that is the difference between holding every value three
//! times (the resolution, the store's form, the diff's copies) and holding none.
//!
//! It decides nothing differently: two values are equal exactly when the store would find
//! them equal, by the digest of their stored form (`IdentityValue::digest`).

use crosswalk_store::scope::IdentityValue;

/// One mapping as the dry run compares and shows it.
#[derive(Debug, Clone)]
pub(crate) struct Compared {
    digest: [u8; 16],
    pub(crate) destination: String,
    pub(crate) resolution: String,
}

impl Compared {
    pub(crate) fn of(value: &IdentityValue) -> Compared {
        Compared {
            digest: value.digest(),
            destination: value.destination.id.clone(),
            resolution: value.resolution.clone(),
        }
    }
}

/// Equal when the store would write no revision: equal digests.
impl PartialEq for Compared {
    fn eq(&self, other: &Compared) -> bool {
        self.digest == other.digest
    }
}

impl Eq for Compared {}
