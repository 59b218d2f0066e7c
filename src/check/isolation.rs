//! Oracle: cross-test isolation. A read must not return bytes another test wrote.

/// Test `reader` read content written (in part) by `writers`. Returns the other tests that
/// wrote it: isolation is broken when that is not empty.
pub fn on_read(reader: usize, writers: &[usize]) -> Vec<usize> {
    on_read_by(reader, writers, |t| t)
}

/// [`on_read`] where threads `test_of` maps to one test are one test: the stages of one build
/// that run at once share what they write. Returns the writing threads of other tests.
pub fn on_read_by(
    reader: usize,
    writers: &[usize],
    test_of: impl Fn(usize) -> usize,
) -> Vec<usize> {
    let mine = test_of(reader);
    writers
        .iter()
        .copied()
        .filter(|&w| test_of(w) != mine)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_writes_are_fine_others_are_not() {
        assert!(super::on_read(2, &[2]).is_empty());
        assert_eq!(super::on_read(2, &[0, 2]), vec![0]);
        assert!(super::on_read(0, &[]).is_empty());
        assert_eq!(super::on_read(64, &[0, 64, 70]), vec![0, 70]);
        // Threads 3 and 4 are stages of test 0.
        let test_of = |t: usize| if t >= 3 { 0 } else { t };
        assert_eq!(super::on_read_by(3, &[0, 1, 4], test_of), vec![1]);
    }
}
