//! What `regharness render node-config` prints: every file written, how it differs from a
//! node without image configuration ([`NodeFiles::defaults`]) and what that needs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{node_actions, overall, ChangeKind, NodeAction, NodeFiles, Rendering};

/// How a written file compares with the node's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// The node already has this content.
    Unchanged,
    /// New on the node.
    Added,
    /// Different from the node's default.
    Changed,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenFile {
    /// Node path without the leading `/`.
    pub path: String,
    /// Where it was written.
    pub written: PathBuf,
    /// Compared with the default node.
    pub change: FileStatus,
    /// What the node does for it (`none` when unchanged).
    pub action: NodeAction,
}

/// The command's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderReport {
    /// The output directory.
    pub out: PathBuf,
    /// Every file written, by path.
    pub files: Vec<WrittenFile>,
    /// The node's action for the whole change (the most disruptive one).
    pub node_action: NodeAction,
    /// What MCO would only log.
    pub notes: Vec<String>,
}

/// The report for `rendering` written under `out` (`written` as [`NodeFiles::write_to`]
/// returned it, in path order).
pub fn report(rendering: &Rendering, out: &Path, written: &[PathBuf]) -> RenderReport {
    let changes = node_actions(&NodeFiles::defaults(), &rendering.files);
    let files = rendering
        .files
        .iter()
        .zip(written)
        .map(|((path, _), written)| {
            let change = changes.iter().find(|c| c.path == path);
            WrittenFile {
                path: path.to_string(),
                written: written.clone(),
                change: match change.map(|c| c.change) {
                    None => FileStatus::Unchanged,
                    Some(ChangeKind::Added) => FileStatus::Added,
                    Some(ChangeKind::Changed | ChangeKind::Removed) => FileStatus::Changed,
                },
                action: change.map_or(NodeAction::None, |c| c.action),
            }
        })
        .collect();
    RenderReport {
        out: out.to_path_buf(),
        files,
        node_action: overall(&changes),
        notes: rendering.notes.clone(),
    }
}

impl RenderReport {
    /// Lines for people.
    pub fn to_human(&self) -> String {
        let width = self.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
        let mut out = format!(
            "wrote {} files under {} (at their node paths):\n",
            self.files.len(),
            self.out.display()
        );
        for f in &self.files {
            let status = match f.change {
                FileStatus::Unchanged => "unchanged",
                FileStatus::Added => "added",
                FileStatus::Changed => "changed",
            };
            let action = match f.change {
                FileStatus::Unchanged => "nothing to do",
                _ => f.action.describe(),
            };
            out.push_str(&format!("  /{:<width$}  {status:<9}  {action}\n", f.path));
        }
        out.push_str(&format!(
            "node action: {}\n",
            match self.node_action {
                NodeAction::None => "none",
                other => other.describe(),
            }
        ));
        for note in &self.notes {
            out.push_str(&format!("note: MCO logs: {note}\n"));
        }
        out
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_config::render::{POLICY_JSON, REGISTRIES_CONF, SEARCH_REGISTRIES_CONF};

    #[test]
    fn each_written_file_is_compared_with_the_default_node() {
        let mut files = NodeFiles::defaults();
        files.insert(POLICY_JSON, "{}");
        files.insert(
            SEARCH_REGISTRIES_CONF,
            "unqualified-search-registries = [\"a.io\"]\n",
        );
        let rendering = Rendering {
            files,
            notes: vec!["skipped".into()],
        };
        let out = Path::new("out");
        let written: Vec<PathBuf> = rendering.files.iter().map(|(p, _)| out.join(p)).collect();
        let report = report(&rendering, out, &written);
        let rows: Vec<(&str, FileStatus, NodeAction)> = report
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.change, f.action))
            .collect();
        assert_eq!(
            rows,
            vec![
                (POLICY_JSON, FileStatus::Changed, NodeAction::ReloadCrio),
                (REGISTRIES_CONF, FileStatus::Unchanged, NodeAction::None),
                (
                    SEARCH_REGISTRIES_CONF,
                    FileStatus::Added,
                    NodeAction::DrainAndReboot
                ),
            ]
        );
        assert_eq!(report.node_action, NodeAction::DrainAndReboot);
        let human = report.to_human();
        assert!(
            human.starts_with("wrote 3 files under out (at their node paths):\n"),
            "{human}"
        );
        assert!(
            human.contains("  /etc/containers/registries.conf  "),
            "{human}"
        );
        assert!(human.contains("unchanged  nothing to do\n"), "{human}");
        assert!(
            human.ends_with("node action: drain and reboot\nnote: MCO logs: skipped\n"),
            "{human}"
        );
    }
}
