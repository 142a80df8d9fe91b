//! The crate's modules depend on each other without a cycle, at the top level (`gpu`, `ops`,
//! `tape`, `nn`, `model`, `train`, `eval`, ...) and among the files of each folder, read from the
//! `crate::` paths in the source. A cycle makes a layer impossible to read or test on its own.
//! The lower floors never reach up: the encoders (`io`) and the kernel benchmarks (`bench`) know
//! nothing of the model, training or evaluation. And no source file outgrows one screenful of
//! purpose (450 lines).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path of a source file relative to src/: `infogan/train.rs` -> ["infogan", "train"].
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Edges between the modules at `depth` (1: top level; 2: files of one folder), inside `parent`.
fn graph(depth: usize, parent: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(file.strip_prefix(&src).unwrap());
        if module.len() < depth
            || module[..depth - 1] != *parent
            || module == ["main"]
            || module == ["lib"]
        {
            continue;
        }
        let from = module[depth - 1].clone();
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let path: Vec<&str> = text[i + 7..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .collect();
            if path.len() >= depth && path[..depth - 1].iter().zip(parent).all(|(a, b)| *a == b) {
                let to = path[depth - 1].to_string();
                if to != from && !to.is_empty() && to.chars().all(|c| c.is_lowercase() || c == '_')
                {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    edges
}

/// A cycle in the graph, if any, as the path that closes it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let edges = graph(1, &[]);
    assert!(
        edges.contains_key("tape") && edges["nn"].contains("tape"),
        "the graph was read: {edges:?}"
    );
    assert_eq!(find_cycle(&edges), None, "{edges:?}");
}

#[test]
fn the_files_of_each_folder_form_no_cycle() {
    for folder in
        ["gpu", "ops", "tape", "nn", "model", "train", "eval", "data", "io", "bench", "cli"]
    {
        let edges = graph(2, &[folder.to_string()]);
        assert_eq!(find_cycle(&edges), None, "{folder}: {edges:?}");
    }
}

#[test]
fn encoders_and_kernel_benchmarks_do_not_reach_up() {
    let edges = graph(1, &[]);
    assert!(edges.contains_key("train"), "the graph was read: {edges:?}");
    for lower in ["io", "bench", "gpu", "ops", "tape", "nn", "data"] {
        for upper in ["model", "train", "eval"] {
            assert!(
                !edges.get(lower).is_some_and(|to| to.contains(upper)),
                "{lower} depends on {upper}: {edges:?}"
            );
        }
    }
}

#[test]
fn no_source_file_is_over_450_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for file in files {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(lines <= 450, "{} has {lines} lines; split it by job", file.display());
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&edges), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}
