//! ImageContentSourcePolicy mirrors merged per source, in the order MCO writes them.
//!
//! Ported from `openshift/runtime-utils` 7bdb5b9c `pkg/registries` (`mergedDigestMirrorSets`,
//! `mergedMirrors`, `topo.go`): every ICSP entry for the same source contributes the edges
//! `mirror[i] -> mirror[i+1]` (and `last -> source` when the source is not listed); the
//! graph is sorted topologically, ties and loops broken alphabetically, and the source is
//! dropped when it comes last (it is always tried last anyway). Entries whose mirrors are
//! only the source itself are ignored. Sources come out sorted.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::RenderError;

/// One source and its merged mirrors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorSet {
    /// The ICSP `source`.
    pub source: String,
    /// Its mirrors, in the order clients try them.
    pub mirrors: Vec<String>,
}

/// Whether `mirrors` has an entry other than `source` (`mirrorsContainsARealMirror`).
pub fn has_real_mirror(source: &str, mirrors: &[String]) -> bool {
    mirrors.iter().any(|m| m != source)
}

/// Merges `(source, mirrors)` entries, in input order, into one set per source.
pub fn merge<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> Result<Vec<MirrorSet>, RenderError> {
    let mut lists: BTreeMap<&str, Vec<&[String]>> = BTreeMap::new();
    for (source, mirrors) in entries {
        if has_real_mirror(source, mirrors) {
            lists.entry(source).or_default().push(mirrors);
        }
    }
    lists
        .into_iter()
        .map(|(source, lists)| {
            let mut graph = TopoGraph::default();
            for mirrors in lists {
                for pair in mirrors.windows(2) {
                    graph.add_edge(&pair[0], &pair[1]);
                }
                if !mirrors.iter().any(|m| m == source) {
                    if let Some(last) = mirrors.last() {
                        graph.add_edge(last, source);
                    }
                }
            }
            let mut sorted = graph.sorted()?;
            if sorted.last().map(String::as_str) == Some(source) {
                sorted.pop();
            }
            Ok(MirrorSet {
                source: source.to_string(),
                mirrors: sorted,
            })
        })
        .collect()
}

/// A directed graph of mirror locations (`topoGraph`).
#[derive(Debug, Default)]
struct TopoGraph {
    /// Node → unprocessed predecessors.
    ins: BTreeMap<String, BTreeSet<String>>,
    /// Node → successors.
    outs: BTreeMap<String, BTreeSet<String>>,
}

impl TopoGraph {
    fn add_edge(&mut self, from: &str, to: &str) {
        for node in [from, to] {
            self.ins.entry(node.to_string()).or_default();
            self.outs.entry(node.to_string()).or_default();
        }
        if let Some(outs) = self.outs.get_mut(from) {
            outs.insert(to.to_string());
        }
        if let Some(ins) = self.ins.get_mut(to) {
            ins.insert(from.to_string());
        }
    }

    /// The nodes in an order that respects the edges where possible; a loop is broken by
    /// taking the alphabetically first unused node.
    fn sorted(mut self) -> Result<Vec<String>, RenderError> {
        let all: Vec<String> = self.ins.keys().cloned().collect();
        let mut ready: VecDeque<String> = self
            .ins
            .iter()
            .filter(|(_, ins)| ins.is_empty())
            .map(|(node, _)| node.clone())
            .collect();
        let mut used = BTreeSet::new();
        let mut result = Vec::with_capacity(all.len());
        let mut next_unused = 0;
        while !ready.is_empty() || next_unused < all.len() {
            let node = if let Some(node) = ready.pop_front() {
                if used.contains(&node) {
                    return Err(RenderError::MirrorOrder { node });
                }
                node
            } else {
                let node = all[next_unused].clone();
                next_unused += 1;
                if used.contains(&node) {
                    continue;
                }
                node
            };
            used.insert(node.clone());
            let mut batch = Vec::new();
            for out in self.outs.get(&node).into_iter().flatten() {
                if let Some(ins) = self.ins.get_mut(out) {
                    ins.remove(&node);
                    if ins.is_empty() && !used.contains(out) {
                        batch.push(out.clone());
                    }
                }
            }
            batch.sort();
            ready.extend(batch);
            result.push(node);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// runtime-utils `TestTopoGraph`, every case and every rotation of the edge list.
    #[rstest]
    #[case(&[], "")]
    #[case(&["AB", "AC", "AD", "ab", "ac", "ad"], "AaBCDbcd")]
    #[case(&["AD", "BD", "CD", "ad", "bd", "cd"], "ABCabcDd")]
    #[case(&["AB", "BC", "CD", "DE", "ab", "bc", "cd", "de"], "AaBbCcDdEe")]
    #[case(&["AB", "BC", "CD", "DA", "ab", "bc", "cd", "da"], "ABCDabcd")]
    #[case(&["AB", "BC", "CD", "DB", "DE", "ab", "bc", "cd", "db", "de"], "AaBCDEbcde")]
    fn topological_order(#[case] edges: &[&str], #[case] expected: &str) {
        for offset in 0..edges.len().max(1) {
            let mut graph = TopoGraph::default();
            for i in 0..edges.len() {
                let e = edges[(offset + i) % edges.len()];
                graph.add_edge(&e[0..1], &e[1..2]);
            }
            assert_eq!(
                graph.sorted().unwrap().concat(),
                expected,
                "offset {offset}"
            );
        }
    }

    #[rstest]
    #[case(&[], false)]
    #[case(&["mirror.local"], true)]
    #[case(&["source.example.com"], false)]
    #[case(&["source.example.com", "source.example.com", "source.example.com"], false)]
    #[case(&["mirror.local", "source.example.com"], true)]
    #[case(&["source.example.com", "mirror.local"], true)]
    #[case(&["m1.local", "m2.local", "m3.local"], true)]
    fn real_mirrors(#[case] mirrors: &[&str], #[case] expected: bool) {
        let mirrors: Vec<String> = mirrors.iter().map(|m| m.to_string()).collect();
        assert_eq!(has_real_mirror("source.example.com", &mirrors), expected);
    }

    fn check_merge(input: &[(&str, &[&str])], expected: &[(&str, &[&str])]) {
        let owned: Vec<(String, Vec<String>)> = input
            .iter()
            .map(|(s, m)| (s.to_string(), m.iter().map(|m| m.to_string()).collect()))
            .collect();
        let merged = merge(owned.iter().map(|(s, m)| (s.as_str(), m.as_slice()))).unwrap();
        let got: Vec<(String, Vec<String>)> =
            merged.into_iter().map(|s| (s.source, s.mirrors)).collect();
        let want: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(s, m)| (s.to_string(), m.iter().map(|m| m.to_string()).collect()))
            .collect();
        assert_eq!(got, want);
    }

    // runtime-utils `mergedMirrorsetsTestcases` (as ICSPs), flattened in input order.

    #[test]
    fn merge_empty() {
        check_merge(&[], &[]);
    }

    #[test]
    fn merge_irrelevant_singletons() {
        check_merge(&[("a.example.com", &[]), ("b.example.com", &[])], &[]);
    }

    #[test]
    fn merge_separate_sets_sorts_sources_not_mirrors() {
        check_merge(
            &[
                (
                    "source.example.net",
                    &["z1.example.net", "y2.example.net", "x3.example.net"],
                ),
                (
                    "source.example.com",
                    &["z1.example.com", "y2.example.com", "x3.example.com"],
                ),
            ],
            &[
                (
                    "source.example.com",
                    &["z1.example.com", "y2.example.com", "x3.example.com"],
                ),
                (
                    "source.example.net",
                    &["z1.example.net", "y2.example.net", "x3.example.net"],
                ),
            ],
        );
    }

    #[test]
    fn merge_sets_with_a_shared_element() {
        check_merge(
            &[
                ("source.example.net", &["z1.example.net", "y2.example.net"]),
                ("source.example.com", &["z1.example.com", "y2.example.com"]),
                ("source.example.net", &["y2.example.net", "x3.example.net"]),
                ("source.example.com", &["y2.example.com", "x3.example.com"]),
            ],
            &[
                (
                    "source.example.com",
                    &["z1.example.com", "y2.example.com", "x3.example.com"],
                ),
                (
                    "source.example.net",
                    &["z1.example.net", "y2.example.net", "x3.example.net"],
                ),
            ],
        );
    }

    #[test]
    fn merge_source_included_in_mirrors() {
        check_merge(
            &[
                (
                    "source.example.com",
                    &["z1.example.com", "source.example.com", "y2.example.com"],
                ),
                (
                    "source.example.com",
                    &["source.example.com", "y2.example.com", "x3.example.com"],
                ),
            ],
            &[(
                "source.example.com",
                &[
                    "z1.example.com",
                    "source.example.com",
                    "y2.example.com",
                    "x3.example.com",
                ],
            )],
        );
    }

    #[test]
    fn merge_mirrors_that_are_only_the_source() {
        check_merge(
            &[
                ("source.example.com", &["source.example.com"]),
                (
                    "source.example.net",
                    &[
                        "source.example.net",
                        "source.example.net",
                        "source.example.net",
                    ],
                ),
            ],
            &[],
        );
    }

    #[test]
    fn merge_vendor_defaults_with_admin_mirrors() {
        check_merge(
            &[
                ("source.vendor.com", &["registry2.vendor.com"]),
                (
                    "source.vendor2.com",
                    &["registry1.vendor2.com", "registry2.vendor2.com"],
                ),
                ("source.vendor.com", &["local-mirror.example.com"]),
                (
                    "source.vendor2.com",
                    &[
                        "local-mirror2.example.com",
                        "registry2.vendor2.com",
                        "registry1.vendor2.com",
                    ],
                ),
            ],
            &[
                (
                    "source.vendor.com",
                    &["local-mirror.example.com", "registry2.vendor.com"],
                ),
                (
                    "source.vendor2.com",
                    &[
                        "local-mirror2.example.com",
                        "registry1.vendor2.com",
                        "registry2.vendor2.com",
                    ],
                ),
            ],
        );
    }
}
