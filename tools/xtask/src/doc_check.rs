//! Host tests that keep README.md and docs/ true to the repository and to the CLI:
//! every relative link and repository path they mention exists, nothing points outside
//! the repository, every `cargo xtask` command line they show parses, every option of
//! every subcommand is in the README and every option the README names exists.

use std::fs;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use regex::Regex;

use crate::build::workspace_root;
use crate::cli::Cli;

/// README.md and every Markdown file under docs/, with their text.
fn documents() -> Vec<(PathBuf, String)> {
    let root = workspace_root();
    let mut paths = vec![root.join("README.md")];
    let mut pending = vec![root.join("docs")];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("docs/ is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("documents are readable");
            (path, text)
        })
        .collect()
}

/// Folders of the repository whose paths a document may mention in backticks.
const REPOSITORY_FOLDERS: &[&str] =
    &["apps/", "boot/", "crates/", "docs/", "kernel/", "sdk/", "tools/", ".ci/"];

/// Every broken reference in `text` (a document at `path`), as a message.
fn broken_references(root: &Path, path: &Path, text: &str) -> Vec<String> {
    let shown = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let mut problems = Vec::new();
    let link = Regex::new(r"\]\(([^)\s]+)\)").expect("valid regex");
    for capture in link.captures_iter(text) {
        let target = capture[1].split('#').next().unwrap_or_default();
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let resolved = path.parent().unwrap_or(root).join(target);
        if !resolved.exists() {
            problems.push(format!("{shown}: link to `{target}`, which does not exist"));
        } else if !resolved.canonicalize().is_ok_and(|p| p.starts_with(root)) {
            problems.push(format!("{shown}: link to `{target}`, outside the repository"));
        }
    }
    let span = Regex::new(r"`([^`\s]+)`").expect("valid regex");
    for capture in span.captures_iter(text) {
        let mentioned = capture[1].trim_end_matches([',', '.', ':', ')']);
        if mentioned.starts_with("../") {
            problems.push(format!("{shown}: `{mentioned}` points outside the repository"));
            continue;
        }
        if !REPOSITORY_FOLDERS.iter().any(|folder| mentioned.starts_with(folder))
            || mentioned.contains(['*', '<', '{'])
        {
            continue;
        }
        // `tools/xtask/src/image.rs` or `crates/drivers/block/`, possibly with `:line`.
        let file = mentioned.split(':').next().unwrap_or(mentioned);
        if !root.join(file).exists() {
            problems.push(format!("{shown}: `{mentioned}` does not exist"));
        }
    }
    let outside = Regex::new(r"(?i)\bissue \d+|reference/\w+\.md|shared/design").expect("regex");
    for found in outside.find_iter(text) {
        problems.push(format!(
            "{shown}: `{}` refers to something outside the repository",
            found.as_str()
        ));
    }
    problems
}

#[test]
fn every_reference_in_the_docs_exists() {
    let root = workspace_root();
    let problems: Vec<String> =
        documents().iter().flat_map(|(path, text)| broken_references(&root, path, text)).collect();
    assert!(problems.is_empty(), "broken references:\n  {}", problems.join("\n  "));
}

#[test]
fn the_reference_check_finds_what_is_broken() {
    let root = workspace_root();
    let doc = root.join("docs/example.md");
    let text = "See [api](api.md), [gone](gone.md), `tools/xtask/src/run.rs:12`, \
                `tools/none.rs`, `../shared/x.md`, issue 5 and `target/ingot/x.img`.";
    let problems = broken_references(&root, &doc, text);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("`gone.md`"));
    assert!(problems[1].contains("`tools/none.rs`"));
    assert!(problems[2].contains("`../shared/x.md`"));
    assert!(problems[3].contains("issue 5"));
}

/// Values that stand for a placeholder in a documented synopsis.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("MiB", "64"),
    ("TEXT", "exit=qemu"),
    ("PROGRAM", "hello"),
    ("NAME", "my-program"),
    ("PATH", "/tmp/ingot.img"),
    ("N", "5"),
    ("FILTER", "ready"),
    ("FILE[,MODEL]", "scratch.img,nvme"),
    ("SIZE", "256M"),
    ("MODEL", "max"),
    ("NAME|PATH", "hello"),
    ("FAMILIES", "virtio,nvme"),
];

/// Splits a shell-like line into words (double and single quotes group).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => (quote, in_word) = (Some(c), true),
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (None, c) => (word, in_word) = (word + &c.to_string(), true),
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The concrete command lines a documented one stands for: `[a|b|c]` becomes each
/// choice and none, `[--opt VALUE]` is taken with VALUE's sample, placeholders become
/// samples. `Err` names a placeholder without a sample.
fn expand(line: &str) -> Result<Vec<Vec<String>>, String> {
    let choice = Regex::new(r"\[([a-z]+(?:\|[a-z]+)+)\]").expect("valid regex");
    let mut lines = vec![line.to_string()];
    loop {
        let found = lines.iter().enumerate().find_map(|(index, line)| {
            let capture = choice.captures(line)?;
            let span = capture.get(0)?.range();
            Some((index, span, capture[1].to_string()))
        });
        let Some((index, span, choices)) = found else { break };
        let whole = lines.remove(index);
        for variant in choices.split('|').chain([""]) {
            lines.push(format!("{}{variant}{}", &whole[..span.start], &whole[span.end..]));
        }
    }
    lines
        .iter()
        .map(|line| {
            words(&line.replace(['[', ']'], " "))
                .into_iter()
                .map(|word| {
                    let is_placeholder = word.chars().any(|c| c.is_ascii_uppercase())
                        && !word.starts_with('-')
                        && !word.contains('=');
                    match PLACEHOLDERS.iter().find(|(name, _)| *name == word) {
                        Some((_, sample)) => Ok(sample.to_string()),
                        None if is_placeholder => Err(format!("no sample for placeholder {word}")),
                        None => Ok(word),
                    }
                })
                .collect()
        })
        .collect()
}

/// Every `cargo xtask …` command line in a document: in code spans and code blocks,
/// up to the end of the span or line, without a trailing `# comment`.
fn command_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (at, _) in text.match_indices("cargo xtask") {
        let rest = &text[at..];
        let end = rest.find(['`', '\n', ';']).unwrap_or(rest.len());
        let line = rest[..end].split(" #").next().unwrap_or_default().trim();
        let line = line.trim_end_matches([',', '.', ')', ':']);
        // A bare `cargo xtask` names the tool rather than showing a command.
        if line != "cargo xtask" {
            lines.push(line.to_string());
        }
    }
    lines
}

#[test]
fn every_documented_command_line_parses() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, text) in documents() {
        for line in command_lines(&text) {
            let expanded = match expand(&line) {
                Ok(expanded) => expanded,
                Err(error) => {
                    problems.push(format!("{}: `{line}`: {error}", path.display()));
                    continue;
                }
            };
            for words in expanded {
                // `cargo xtask` is two words; clap wants one program name.
                let args =
                    std::iter::once("cargo xtask".to_string()).chain(words.into_iter().skip(2));
                checked += 1;
                if let Err(error) = Cli::try_parse_from(args)
                    && !matches!(
                        error.kind(),
                        clap::error::ErrorKind::DisplayHelp
                            | clap::error::ErrorKind::DisplayVersion
                    )
                {
                    let first = error.to_string().lines().next().unwrap_or_default().to_string();
                    problems.push(format!("{}: `{line}`: {first}", path.display()));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} command lines found");
    assert!(problems.is_empty(), "command lines that do not parse:\n  {}", problems.join("\n  "));
}

#[test]
fn every_option_is_documented_in_the_readme() {
    let readme = fs::read_to_string(workspace_root().join("README.md")).expect("README");
    let mut missing = Vec::new();
    for sub in Cli::command().get_subcommands().filter(|sub| !sub.is_hide_set()) {
        if !readme.contains(&format!("cargo xtask {}", sub.get_name())) {
            missing.push(format!("`cargo xtask {}`", sub.get_name()));
        }
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long()
                && !matches!(long, "help" | "version")
                && !readme.contains(&format!("--{long}"))
            {
                missing.push(format!("`{} --{long}`", sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "not in README.md: {}", missing.join(", "));
}

#[test]
fn every_option_the_readme_names_exists() {
    let readme = fs::read_to_string(workspace_root().join("README.md")).expect("README");
    let command = Cli::command();
    let known: Vec<String> = command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments().filter_map(|arg| arg.get_long()))
        .chain(["help", "version"])
        .map(|long| format!("--{long}"))
        .collect();
    let option = Regex::new(r"--[a-z][a-z0-9-]*").expect("valid regex");
    let unknown: Vec<&str> = option
        .find_iter(&readme)
        .map(|found| found.as_str())
        .filter(|name| !known.iter().any(|k| k == name))
        .collect();
    assert!(unknown.is_empty(), "README.md names options xtask does not have: {unknown:?}");
}

#[test]
fn synopses_expand_into_each_choice() {
    let lines = expand("cargo xtask bench [boot|size] [--runs N]").unwrap();
    let joined: Vec<String> = lines.iter().map(|l| l.join(" ")).collect();
    assert!(joined.contains(&"cargo xtask bench boot --runs 5".to_string()), "{joined:?}");
    assert!(joined.contains(&"cargo xtask bench --runs 5".to_string()), "{joined:?}");
    assert_eq!(joined.len(), 3);
    assert!(expand("cargo xtask run --weird WHAT").is_err());
    assert_eq!(words(r#"run --append "a b" 'c'"#), ["run", "--append", "a b", "c"]);
    assert!(Cli::try_parse_from(["cargo xtask", "bench", "boot", "--runs", "5"]).is_ok());
}
