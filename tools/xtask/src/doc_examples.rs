//! Host tests that keep the examples of `docs/api.md` real: every Rust and C block in
//! its "Calls" section is the text of a `// doc: NAME` … `// doc end` region of
//! `apps/api-examples/src/main.rs` or `apps/c/api-examples-c/main.c` (Rust ones that
//! need the SDK's heap, which `api-examples` cannot have beside its scratch memory,
//! may be regions of `apps/sdk-examples/src/main.rs`, run by the `sdk-examples`
//! scenario), every one in
//! "Every call, in Rust and in C" (BareMetal-compatible table) of
//! `apps/baremetal-examples/src/main.rs` or `tools/compat-suite/examples.c` (programs
//! that `cargo xtask build` compiles and the `api-examples` and `baremetal-examples`
//! scenarios run), and every region is shown there.

use std::fs;

use crate::build::workspace_root;

const RUST_EXAMPLES: &str = "apps/api-examples/src/main.rs";
const C_EXAMPLES: &str = "apps/c/api-examples-c/main.c";
/// Also a source of the "Calls" section's Rust examples (those that allocate); its
/// other regions are the SDK's own examples, not all shown there.
const RUST_HEAP_EXAMPLES: &str = "apps/sdk-examples/src/main.rs";
const RUST_BAREMETAL_EXAMPLES: &str = "apps/baremetal-examples/src/main.rs";
const C_BAREMETAL_EXAMPLES: &str = "tools/compat-suite/examples.c";
/// The native calls' section, up to the next `## ` heading.
const CALLS: &str = "\n## Calls\n";
/// The compatible table's examples, up to the next `### ` heading.
const BAREMETAL_CALLS: &str = "\n### Every call, in Rust and in C\n";

/// The regions of `source`, each with its common indentation removed.
fn regions(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in source.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("// doc: ") {
            current = Some((name.to_string(), Vec::new()));
        } else if trimmed == "// doc end" {
            if let Some((name, lines)) = current.take() {
                found.push((name, dedent(&lines)));
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    found
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let text: Vec<&str> =
        lines.iter().map(|line| if line.len() >= indent { &line[indent..] } else { "" }).collect();
    text.join("\n").trim_matches('\n').to_string()
}

/// The fenced blocks of language `language` in `text`.
fn blocks(text: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}");
    let mut found = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match current.as_mut() {
            None if line.trim_end() == fence => current = Some(Vec::new()),
            Some(_) if line.trim_end() == "```" => {
                found.push(current.take().unwrap_or_default().join("\n"));
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    found
}

/// The section of `docs/api.md` that starts with the heading `heading`, up to the next
/// heading of the same level.
fn section(heading: &str) -> String {
    let text = fs::read_to_string(workspace_root().join("docs/api.md")).unwrap();
    let start = text.find(heading).unwrap_or_else(|| panic!("docs/api.md lacks {heading:?}"));
    let rest = &text[start + 1..];
    let level = heading.trim().split(' ').next().unwrap_or("##");
    let next = format!("\n{level} ");
    let end = rest[level.len()..].find(&next).map_or(rest.len(), |end| end + level.len());
    rest[..end].to_string()
}

/// Every `language` block of section `heading` is a region of `source` or of one of
/// `also`, and every region of `source` is shown there.
fn check(heading: &str, language: &str, source: &str, also: &[&str]) {
    let shown = blocks(&section(heading), language);
    let read = |path: &str| fs::read_to_string(workspace_root().join(path)).unwrap();
    let own = regions(&read(source));
    assert!(!own.is_empty(), "{source} has no `// doc:` regions");
    let other: Vec<String> =
        also.iter().flat_map(|path| regions(&read(path))).map(|(_, text)| text).collect();
    for block in &shown {
        assert!(
            own.iter().any(|(_, text)| text == block) || other.contains(block),
            "this {language} example of docs/api.md is not a region of {source} or {also:?}:\n{block}"
        );
    }
    for (name, text) in &own {
        assert!(shown.contains(text), "region `{name}` of {source} is not shown in docs/api.md");
    }
}

#[test]
fn every_rust_example_in_the_api_doc_is_built_and_run() {
    check(CALLS, "rust", RUST_EXAMPLES, &[RUST_HEAP_EXAMPLES]);
    check(BAREMETAL_CALLS, "rust", RUST_BAREMETAL_EXAMPLES, &[]);
}

#[test]
fn every_c_example_in_the_api_doc_is_built_and_run() {
    check(CALLS, "c", C_EXAMPLES, &[]);
    check(BAREMETAL_CALLS, "c", C_BAREMETAL_EXAMPLES, &[]);
}

#[test]
fn regions_and_blocks_are_read_as_written() {
    let source = "fn f() {\n    // doc: one\n    let a = 1;\n    if a {\n        b();\n    }\n    // doc end\n}\n";
    assert_eq!(
        regions(source),
        [("one".to_string(), "let a = 1;\nif a {\n    b();\n}".to_string())]
    );
    let text = "x\n```rust\nlet a = 1;\n```\n```c\nint b;\n```\n";
    assert_eq!(blocks(text, "rust"), ["let a = 1;"]);
    assert_eq!(blocks(text, "c"), ["int b;"]);
}
