//! Host test that keeps the Rust SDK's documentation real: every public item of
//! `sdk/ingot/src` and its folders (functions, methods, types, constants, macros) has an `# Example`,
//! and each example is the text of a `// doc: NAME` … `// doc end` region of
//! `apps/api-examples`, `apps/baremetal-examples` or `apps/sdk-examples` (programs
//! `cargo xtask build` compiles and the scenarios of `scenarios/api_examples.rs` run).
//! The SDK only builds for the machine, so rustdoc cannot compile its examples
//! itself; they are marked `ignore` and checked here instead. The two `unsafe`
//! functions are the exception: the example programs forbid `unsafe`.

use std::fs;

use regex::Regex;

use crate::build::workspace_root;

/// The programs whose regions are the SDK's examples.
const EXAMPLE_PROGRAMS: [&str; 3] = [
    "apps/api-examples/src/main.rs",
    "apps/baremetal-examples/src/main.rs",
    "apps/sdk-examples/src/main.rs",
];
/// Items whose examples need `unsafe`, which no example program may use.
const UNSAFE_ITEMS: [&str; 2] = ["bus_write", "stdout_set"];

fn regions() -> Vec<String> {
    let mut found = Vec::new();
    for program in EXAMPLE_PROGRAMS {
        let source = fs::read_to_string(workspace_root().join(program)).unwrap();
        let mut current: Option<Vec<&str>> = None;
        for line in source.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("// doc: ") {
                current = Some(Vec::new());
            } else if trimmed == "// doc end" {
                found.push(dedent(&current.take().unwrap_or_default()));
            } else if let Some(lines) = current.as_mut() {
                lines.push(line);
            }
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
    let text: Vec<&str> = lines.iter().map(|line| line.get(indent..).unwrap_or("")).collect();
    text.join("\n").trim_matches('\n').to_string()
}

/// Each public item of `source`: its name and the doc comment above it (attributes
/// skipped; items marked `#[doc(hidden)]` left out).
fn documented_items(source: &str) -> Vec<(String, Vec<String>)> {
    let item = Regex::new(
        r"^\s*(?:pub (?:unsafe )?fn|pub struct|pub enum|pub type|pub const|macro_rules!) (\w+)",
    )
    .unwrap();
    let lines: Vec<&str> = source.lines().collect();
    let mut items = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(captures) = item.captures(line) else { continue };
        let mut above = index;
        let mut hidden = false;
        while above > 0 && lines[above - 1].trim().starts_with("#[") {
            hidden |= lines[above - 1].contains("doc(hidden)");
            above -= 1;
        }
        let mut doc = Vec::new();
        while above > 0 && lines[above - 1].trim().starts_with("///") {
            let text = lines[above - 1].trim().trim_start_matches("///");
            doc.insert(0, text.strip_prefix(' ').unwrap_or(text).to_string());
            above -= 1;
        }
        if !hidden {
            items.push((captures[1].to_string(), doc));
        }
    }
    items
}

/// The ```` ```ignore ```` blocks of a doc comment.
fn examples(doc: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in doc {
        match current.as_mut() {
            None if line.trim_end() == "```ignore" => current = Some(Vec::new()),
            Some(_) if line.trim_end() == "```" => {
                found.push(current.take().unwrap_or_default().join("\n"))
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    found
}

#[test]
fn every_public_sdk_item_has_an_example_that_is_built_and_run() {
    let regions = regions();
    let dir = workspace_root().join("sdk/ingot/src");
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut files = Vec::new();
    let mut folders = vec![dir.clone()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    for path in files {
        let source = fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for (name, doc) in documented_items(&source) {
            checked += 1;
            let shown = examples(&doc);
            if !doc.iter().any(|line| line == "# Example") || shown.is_empty() {
                problems.push(format!("{file}: `{name}` has no `# Example`"));
            }
            for example in shown {
                if !UNSAFE_ITEMS.contains(&name.as_str()) && !regions.contains(&example) {
                    problems.push(format!(
                        "{file}: the example of `{name}` is no example program's region:\n{example}"
                    ));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} public items found in {}", dir.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn items_and_their_examples_are_read_as_written() {
    let source = "/// Adds.\n///\n/// # Example\n///\n/// ```ignore\n/// let a = add(1);\n/// ```\n#[inline]\npub fn add(x: u64) -> u64 {\n    x\n}\n\n#[doc(hidden)]\npub fn hidden() {}\n";
    let items = documented_items(source);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].0, "add");
    assert_eq!(examples(&items[0].1), ["let a = add(1);"]);
}
