//! Optimistic concurrency: what a client expects of the version a change would overwrite.

/// The versions a change may overwrite, as the client names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// `*`: any existing version.
    Any,
    /// These revisions only (tags that name no revision of ours are left out, so an empty
    /// list matches nothing).
    Revisions(Vec<i64>),
}

impl ExpectedVersion {
    /// Whether the resource, at `current` revision (`None`: it does not exist), may be changed.
    pub fn admits(&self, current: Option<i64>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Self::Any, Some(_)) => true,
            (Self::Revisions(revisions), Some(current)) => revisions.contains(&current),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_precondition_admits_only_the_versions_it_names() {
        assert!(ExpectedVersion::Any.admits(Some(7)));
        assert!(!ExpectedVersion::Any.admits(None));
        let listed = ExpectedVersion::Revisions(vec![2, 3]);
        assert!(listed.admits(Some(3)));
        assert!(!listed.admits(Some(4)));
        assert!(!listed.admits(None));
        assert!(!ExpectedVersion::Revisions(Vec::new()).admits(Some(0)));
    }
}
