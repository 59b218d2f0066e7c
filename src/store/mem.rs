//! In-memory [`Storage`]: a sorted map from model path to bytes. The reference the filesystem
//! store is checked against.

use std::collections::BTreeMap;
use std::io;

use super::Storage;

/// Files by full model path; directories exist implicitly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemStorage {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = String> + 'a {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.files
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
    }
}

fn path(dir: &str, file: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), file)
}

impl Storage for MemStorage {
    fn write(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()> {
        self.files.insert(path(dir, file), data.to_vec());
        Ok(())
    }
    fn append(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()> {
        self.files
            .entry(path(dir, file))
            .or_default()
            .extend_from_slice(data);
        Ok(())
    }
    fn read(&self, dir: &str, file: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.files.get(&path(dir, file)).cloned())
    }
    fn remove(&mut self, dir: &str, file: &str) -> io::Result<bool> {
        Ok(self.files.remove(&path(dir, file)).is_some())
    }
    fn wipe(&mut self, dir: &str) -> io::Result<()> {
        let doomed: Vec<String> = self.under(dir).collect();
        doomed.iter().for_each(|k| {
            self.files.remove(k);
        });
        Ok(())
    }
    fn remove_tree(&mut self, p: &str) -> io::Result<()> {
        self.files.remove(p);
        self.wipe(p)
    }
    fn exists(&self, p: &str) -> io::Result<bool> {
        Ok(self.files.contains_key(p))
    }
}
