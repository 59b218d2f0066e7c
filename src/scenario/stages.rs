//! The stages of one build that run at once. BuildKit's solver starts each instruction of a
//! build as soon as its inputs are done (`solver/jobs.go`, `solver/scheduler.go`): stages that do
//! not need each other run in parallel, and a stage's instructions before a `COPY --from=x` do
//! not wait for `x` (buildkit#5566 is a race between two such stages). Buildah builds stages one
//! after another unless `--jobs` is given (docs/buildah-build.1.md; the flag defaults to 1 in
//! `pkg/cli/common.go`).
//!
//! A build's stages with cache RUNs are its *lanes*. [`Stages`] says which lane each cache RUN
//! belongs to and which lanes must be complete before it starts, closed under "complete before"
//! so that one graph has one form, whatever way the Dockerfile spelt it.

/// One stage of a stage graph: its name and the stages it needs (earlier ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageNode {
    /// For reports: `AS name`, or `stage-<index>`.
    pub name: String,
    /// Every stage it needs (base, `COPY --from`, `RUN --mount from=`).
    pub needs: Vec<usize>,
}

/// The lanes of a build whose stages run at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stages {
    /// Per lane, in file order: its stage's name.
    pub names: Vec<String>,
    /// Per cache RUN of the build: its lane.
    pub lane: Vec<usize>,
    /// Per cache RUN: the lanes complete before it starts, ascending.
    pub after: Vec<Vec<usize>>,
    /// Per lane: the lanes complete before it is complete, ascending.
    pub done_after: Vec<Vec<usize>>,
}

impl Stages {
    /// The lanes of a build whose RUNs lie in stages `run_stage` (indices into `graph`), each
    /// waiting for the stages `run_needs`; `None` when no two of its RUNs can run at once.
    pub fn from_graph(
        graph: &[StageNode],
        run_stage: &[usize],
        run_needs: &[Vec<usize>],
    ) -> Option<Stages> {
        let n = graph.len();
        let has_runs: Vec<bool> = (0..n).map(|s| run_stage.contains(&s)).collect();
        let lane_of: Vec<Option<usize>> = (0..n)
            .scan(0, |next, s| {
                Some(has_runs[s].then(|| {
                    *next += 1;
                    *next - 1
                }))
            })
            .collect();
        // Per stage, the lanes complete once it is (itself, if a lane, and all it needs).
        let mut done: Vec<Vec<usize>> = vec![Vec::new(); n];
        for s in 0..n {
            let mut d: Vec<usize> = lane_of[s].into_iter().collect();
            for &x in &graph[s].needs {
                if x < s {
                    d.extend(done[x].iter().copied());
                }
            }
            d.sort_unstable();
            d.dedup();
            done[s] = d;
        }
        let closure = |needs: &[usize]| {
            let mut d: Vec<usize> = needs
                .iter()
                .filter(|&&x| x < n)
                .flat_map(|&x| done[x].iter().copied())
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        let names: Vec<String> = (0..n)
            .filter(|&s| has_runs[s])
            .map(|s| graph[s].name.clone())
            .collect();
        let lane: Vec<usize> = run_stage
            .iter()
            .map(|&s| lane_of[s].expect("a RUN's stage is a lane"))
            .collect();
        let after: Vec<Vec<usize>> = run_needs
            .iter()
            .zip(&lane)
            .map(|(needs, &l)| closure(needs).into_iter().filter(|&x| x != l).collect())
            .collect();
        let done_after: Vec<Vec<usize>> = (0..n)
            .filter(|&s| has_runs[s])
            .map(|s| {
                let l = lane_of[s].expect("a lane");
                closure(&graph[s].needs)
                    .into_iter()
                    .filter(|&x| x != l)
                    .collect()
            })
            .collect();
        let st = Stages {
            names,
            lane,
            after,
            done_after,
        };
        st.concurrent().then_some(st)
    }

    /// Whether two RUNs of different lanes can run at once (neither lane is complete before
    /// the other's RUN starts).
    pub fn concurrent(&self) -> bool {
        // A lane's RUNs wait for more and more (what its stage needs grows), so two lanes can
        // run at once exactly when their first RUNs can.
        let first: Vec<usize> = (0..self.names.len())
            .filter_map(|l| self.lane.iter().position(|&x| x == l))
            .collect();
        first.iter().enumerate().any(|(i, &a)| {
            first[i + 1..].iter().any(|&b| {
                let (la, lb) = (self.lane[a], self.lane[b]);
                self.after[b].binary_search(&la).is_err()
                    && self.after[a].binary_search(&lb).is_err()
            })
        })
    }

    /// The same graph without cache RUN `i` (a lane left without RUNs passes on what it
    /// needs); `None` when no two RUNs can run at once any more.
    pub fn without_run(&self, i: usize) -> Option<Stages> {
        let graph: Vec<StageNode> = self
            .names
            .iter()
            .zip(&self.done_after)
            .map(|(name, needs)| StageNode {
                name: name.clone(),
                needs: needs.clone(),
            })
            .collect();
        let keep = |v: &[usize]| -> Vec<usize> {
            v.iter()
                .enumerate()
                .filter(|&(k, _)| k != i)
                .map(|(_, &x)| x)
                .collect()
        };
        let run_stage = keep(&self.lane);
        let run_needs: Vec<Vec<usize>> = self
            .after
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != i)
            .map(|(_, a)| a.clone())
            .collect();
        Stages::from_graph(&graph, &run_stage, &run_needs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, needs: &[usize]) -> StageNode {
        StageNode {
            name: name.into(),
            needs: needs.to_vec(),
        }
    }

    #[test]
    fn two_independent_stages_are_lanes_and_a_chain_is_not() {
        // 0 base (no RUN), 1 a FROM base, 2 b FROM base, 3 final COPY --from a and b.
        let g = [
            node("base", &[]),
            node("a", &[0]),
            node("b", &[0]),
            node("final", &[1, 2]),
        ];
        let st = Stages::from_graph(&g, &[1, 2], &[vec![0], vec![0]]).expect("concurrent");
        assert_eq!(st.names, ["a", "b"]);
        assert_eq!(st.lane, [0, 1]);
        assert_eq!(st.after, [Vec::<usize>::new(), vec![]]);
        // b FROM a: b's RUN waits for a.
        let g = [node("a", &[]), node("b", &[0])];
        assert_eq!(Stages::from_graph(&g, &[0, 1], &[vec![], vec![0]]), None);
    }

    #[test]
    fn a_run_before_copy_from_does_not_wait_and_one_after_does() {
        // 0 x; 1 y: RUN (needs nothing yet), COPY --from=x, RUN (needs x).
        let g = [node("x", &[]), node("y", &[0])];
        let st = Stages::from_graph(&g, &[0, 1, 1], &[vec![], vec![], vec![0]]).expect("lanes");
        assert_eq!(st.after, [vec![], vec![], vec![0]]);
        assert_eq!(st.done_after, [vec![], vec![0]]);
        // Without y's first RUN, y's remaining RUN waits for x: nothing runs at once.
        assert_eq!(st.without_run(1), None);
        // Without x's RUN, x is no lane and y is alone.
        assert_eq!(st.without_run(0), None);
    }

    #[test]
    fn waiting_is_transitive_through_stages_without_runs() {
        // 0 a (RUN), 1 mid FROM a (no RUN), 2 b (RUN) COPY --from=mid, RUN.
        let g = [node("a", &[]), node("mid", &[0]), node("b", &[1])];
        let st = Stages::from_graph(&g, &[0, 2, 2], &[vec![], vec![], vec![1]]).expect("lanes");
        assert_eq!(st.names, ["a", "b"]);
        assert_eq!(st.after[2], [0]);
        assert!(st.concurrent());
    }
}
