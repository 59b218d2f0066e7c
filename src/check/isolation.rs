//! Oracle: cross-test isolation. A read must not return bytes another test wrote.

/// Test `reader` read content written (in part) by `writers`. Returns the other tests that
/// wrote it: isolation is broken when that is not empty.
pub fn on_read(reader: usize, writers: &[usize]) -> Vec<usize> {
    writers.iter().copied().filter(|&w| w != reader).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_writes_are_fine_others_are_not() {
        assert!(super::on_read(2, &[2]).is_empty());
        assert_eq!(super::on_read(2, &[0, 2]), vec![0]);
        assert!(super::on_read(0, &[]).is_empty());
        assert_eq!(super::on_read(64, &[0, 64, 70]), vec![0, 70]);
    }
}
