//! Docstrings as kfp 2.17.3 reads them: `inspect.getdoc`, then `docstring_parser`'s Google
//! style, which cleans the text once more. The summary and the paragraphs after it describe a
//! component or pipeline; the entries of `Args:` (and its synonyms) describe its inputs.
//!
//! The rules are `docstring_parser`'s, as kfp uses them, so that a notebook compiles to what kfp
//! makes of it: the section titles it knows, an unindented line ending a section, entries split
//! at the first entry's indent, a second `Args:` replacing the first, the last entry of a name
//! winning. Where the Google parse fails (an entry without a colon, an empty section) or finds
//! no section, kfp keeps the result of its reStructuredText parse instead, which has no entries
//! here and ends the description at the first line starting with `:`.

use std::sync::LazyLock;

use regex::Regex;

/// `docstring_parser`'s Google section titles, and whether a section's entries describe
/// parameters (its `params`, which kfp reads: attributes count too).
const SECTIONS: [(&str, Kind); 12] = [
    ("Arguments", Kind::Params),
    ("Args", Kind::Params),
    ("Parameters", Kind::Params),
    ("Params", Kind::Params),
    ("Raises", Kind::Entries),
    ("Exceptions", Kind::Entries),
    ("Except", Kind::Entries),
    ("Attributes", Kind::Params),
    ("Example", Kind::Single),
    ("Examples", Kind::Single),
    ("Returns", Kind::Single),
    ("Yields", Kind::Single),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `name: description` entries that kfp reads as parameter descriptions.
    Params,
    /// `name: description` entries kfp does not read.
    Entries,
    /// One block of text.
    Single,
}

/// A section title on a line of its own.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by every test"
)]
static TITLE: LazyLock<Regex> = LazyLock::new(|| {
    let titles: Vec<&str> = SECTIONS.iter().map(|(title, _)| *title).collect();
    Regex::new(&format!(r"(?m)^({}):[ \t\r\x0c\x0b]*$", titles.join("|")))
        .expect("the title pattern is valid")
});

/// `name (type)` of an entry.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by every test"
)]
static TYPED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(.+?)\s*\(\s*(.*[^\s]+)\s*\)").expect("the typed name pattern is valid")
});

/// The description (summary, then the paragraphs after it) and the parameters' descriptions,
/// each name once.
pub(crate) fn parse(doc: &str) -> (Option<String>, Vec<(String, String)>) {
    // `inspect.getdoc`, then the parser's own clean-up.
    let text = cleandoc(&cleandoc(doc));
    let (description, mut args) = match google(&text) {
        Some(parsed) if parsed.entries > 0 => (parsed.description, parsed.args),
        // The reStructuredText parse, which cleans once more.
        _ => {
            let text = cleandoc(&text);
            let end = text
                .match_indices('\n')
                .map(|(at, _)| at + 1)
                .chain(std::iter::once(0))
                .filter(|&at| text[at..].starts_with(':'))
                .min()
                .unwrap_or(text.len());
            (describe(&text[..end]), Vec::new())
        }
    };
    // The last entry of a name wins; an empty description is none (kfp's IR leaves it out).
    let mut seen = std::collections::HashSet::new();
    args.reverse();
    args.retain(|(name, _)| seen.insert(name.clone()));
    args.reverse();
    args.retain(|(_, text)| !text.is_empty());
    (description, args)
}

/// The summary line, then (after a line break) the rest of the text, stripped; as kfp joins
/// `docstring_parser`'s short and long descriptions.
fn describe(chunk: &str) -> Option<String> {
    let (short, long) = chunk.split_once('\n').unwrap_or((chunk, ""));
    let long = long.trim();
    let joined = if short.is_empty() {
        return None;
    } else if long.is_empty() {
        short.to_owned()
    } else {
        format!("{short}\n{long}")
    };
    let joined = joined.trim();
    (!joined.is_empty()).then(|| joined.to_owned())
}

/// What the Google parse found.
struct Google {
    description: Option<String>,
    /// The parameters' entries, in order.
    args: Vec<(String, String)>,
    /// How many entries of any section it found (kfp keeps the parse with the most).
    entries: usize,
}

/// `docstring_parser`'s Google parse; `None` where it raises a parse error.
fn google(text: &str) -> Option<Google> {
    let Some(first) = TITLE.find(text) else {
        return Some(Google {
            description: describe(text),
            args: Vec::new(),
            entries: 0,
        });
    };
    let description = describe(&text[..first.start()]);
    let meta = &text[first.start()..];
    let titles: Vec<(usize, usize, &str)> = TITLE
        .captures_iter(meta)
        .filter_map(|c| {
            let whole = c.get(0)?;
            Some((whole.start(), whole.end(), c.get(1)?.as_str()))
        })
        .collect();
    // Title to its text, in the order titles first appear; a repeated title replaces the text.
    let mut chunks: Vec<(&str, &str)> = Vec::new();
    for (j, &(_, end, title)) in titles.iter().enumerate() {
        let until = titles.get(j + 1).map_or(meta.len(), |next| next.0);
        let mut details = &meta[end..until];
        // An unindented line ends the section.
        if let Some(at) = details.match_indices('\n').map(|(at, _)| at).find(|&at| {
            details[at + 1..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace())
        }) {
            details = &details[..at];
        }
        let details = details.trim_matches('\n');
        match chunks.iter_mut().find(|(t, _)| *t == title) {
            Some(entry) => entry.1 = details,
            None => chunks.push((title, details)),
        }
    }
    let mut args = Vec::new();
    let mut entries = 0;
    for (title, chunk) in chunks {
        let kind = SECTIONS
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, k)| *k)?;
        if kind == Kind::Single {
            entries += 1;
            continue;
        }
        let indent_len = chunk.len() - chunk.trim_start().len();
        let indent = &chunk[..indent_len];
        // Entries start on lines with exactly the first entry's indent.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(chunk.match_indices('\n').map(|(at, _)| at + 1))
            .filter(|&at| {
                chunk[at..]
                    .strip_prefix(indent)
                    .is_some_and(|rest| rest.chars().next().is_some_and(|c| !c.is_whitespace()))
            })
            .collect();
        if starts.is_empty() {
            return None;
        }
        for (j, &start) in starts.iter().enumerate() {
            let until = starts.get(j + 1).map_or(chunk.len(), |&next| next);
            let part = chunk[start + indent.len()..until].trim_matches('\n');
            let (before, desc) = part.split_once(':')?;
            entries += 1;
            if kind != Kind::Params {
                continue;
            }
            let before = match before.split_once('\n') {
                Some((first_line, rest)) => format!("{first_line}{}", cleandoc(rest)),
                None => before.to_owned(),
            };
            let desc = desc.strip_prefix(' ').unwrap_or(desc);
            let desc = match desc.split_once('\n') {
                Some((first_line, rest)) => format!("{first_line}\n{}", cleandoc(rest)),
                None => desc.to_owned(),
            };
            let name = TYPED_NAME
                .captures(&before)
                .and_then(|c| c.get(1))
                .map_or(before.clone(), |m| m.as_str().to_owned());
            args.push((name, desc.trim_matches('\n').to_owned()));
        }
    }
    Some(Google {
        description,
        args,
        entries,
    })
}

/// A parameter description as kfp reads it back from an `Args:` entry of a docstring: each line
/// trimmed, blank lines left out; `None` when nothing is left.
pub(crate) fn arg_description(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Python 3.11's `inspect.cleandoc`: tabs expanded, the first line's leading whitespace
/// removed, the others dedented by their smallest indent (counted in characters), blank lines
/// at either end dropped.
fn cleandoc(doc: &str) -> String {
    let doc = expand_tabs(doc);
    let mut lines: Vec<&str> = doc.split('\n').collect();
    let indent = |line: &str| line.chars().take_while(|c| c.is_whitespace()).count();
    let margin = lines
        .iter()
        .skip(1)
        .filter(|line| line.chars().any(|c| !c.is_whitespace()))
        .map(|line| indent(line))
        .min();
    if let Some(first) = lines.first_mut() {
        *first = first.trim_start();
    }
    if let Some(margin) = margin {
        for line in lines.iter_mut().skip(1) {
            let at = line
                .char_indices()
                .nth(margin)
                .map_or(line.len(), |(at, _)| at);
            *line = &line[at..];
        }
    }
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    let leading = lines.iter().take_while(|line| line.is_empty()).count();
    lines[leading..].join("\n")
}

/// Python's `str.expandtabs()`: each tab becomes the spaces up to the next multiple of 8
/// columns of its line.
fn expand_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn google_style_summary_and_args() {
        let (description, args) = parse(
            "Trains a model.\n\n    Args:\n        data_path: where the data is,\n            on GCS.\n        n (int): trees.\n    Returns:\n        nothing\n    ",
        );
        assert_eq!(description.as_deref(), Some("Trains a model."));
        assert_eq!(
            args,
            vec![
                (
                    "data_path".to_owned(),
                    "where the data is,\non GCS.".to_owned()
                ),
                ("n".to_owned(), "trees.".to_owned())
            ]
        );
    }

    #[test]
    fn tabs_count_as_python_expands_them() {
        let (description, args) =
            parse("\n\tSummary.\n\n        Args:\n\t    a: first\n                line two.\n");
        assert_eq!(description.as_deref(), Some("Summary."));
        assert_eq!(args, vec![("a".to_owned(), "first\nline two.".to_owned())]);
    }

    /// Docstrings and what `docstring_parser` 2.x (kfp 2.17.3's) makes of them, description as
    /// kfp joins it: generated by running it on each, not by hand.
    #[test]
    fn docstrings_read_as_kfp_reads_them() {
        #[expect(clippy::type_complexity, reason = "a table of test cases")]
        let cases: &[(&str, Option<&str>, &[(&str, &str)])] = &[
            (
                "Trains a model.\n\n    Args:\n        data_path: where the data is,\n            on GCS.\n        n (int): trees.\n    Returns:\n        nothing\n    ",
                Some("Trains a model."),
                &[
                    ("data_path", "where the data is,\non GCS."),
                    ("n", "trees."),
                ],
            ),
            (
                "Summary.\n\n    More text.\n      indented line.\n\n    Args:\n        a:\n            on the next line\n        b: bee   \n    ",
                Some("Summary.\nMore text.\n  indented line."),
                &[("a", "on the next line"), ("b", "bee   ")],
            ),
            (
                "Sum.\n\nNote:\n    Something.\n\nArgs:\n    a: aye\n",
                Some("Sum.\nNote:\n    Something."),
                &[("a", "aye")],
            ),
            (
                "Sum.\n\nParams:\n    a: aye\n",
                Some("Sum."),
                &[("a", "aye")],
            ),
            (
                "Sum.\n\nArgs:\n    a: aye\nb: unindented\n",
                Some("Sum."),
                &[("a", "aye")],
            ),
            (
                "Sum.\n\nArgs:\n    a: aye\n  b: bee\n",
                Some("Sum."),
                &[("a", "aye\nb: bee")],
            ),
            (
                "Sum.\n\nArgs:\n    a: first\nArgs:\n    b: second\n",
                Some("Sum."),
                &[("b", "second")],
            ),
            (
                "Sum.\n\nArgs:\n    a: one\n    a: two\n",
                Some("Sum."),
                &[("a", "two")],
            ),
            (
                "Sum.\n\nArgs:\n    c(float): x\n    a b: y\n    d (Literal['x:y']): z\n",
                Some("Sum."),
                &[("a b", "y"), ("c", "x"), ("d (Literal['x", "y']): z")],
            ),
            (
                "Sum.\n\nArgs:\n    a: first\n\n        after blank\n    b:    spaced\n",
                Some("Sum."),
                &[("a", "first\nafter blank"), ("b", "   spaced")],
            ),
            (
                "Sum.\n\nArgs:\n    a: aye\n    continuation\n    b: bee\n",
                Some("Sum.\nArgs:\n    a: aye\n    continuation\n    b: bee"),
                &[],
            ),
            (
                "\n    Args:\n        a: aye\n    ",
                Some("Args:\na: aye"),
                &[],
            ),
            ("Sum.\n\nArgs:\n", Some("Sum.\nArgs:"), &[]),
            (
                "Sum.\n\nRaises:\n    ValueError if bad\n\nArgs:\n    a: aye\n",
                Some("Sum.\nRaises:\n    ValueError if bad\n\nArgs:\n    a: aye"),
                &[],
            ),
            (
                "Sum.\n\nAttributes:\n    a: from attributes\n",
                Some("Sum."),
                &[("a", "from attributes")],
            ),
            ("One line.", Some("One line."), &[]),
            (
                "Sum.\nSecond line right after.\n\nArgs:\n    a: x\n",
                Some("Sum.\nSecond line right after."),
                &[("a", "x")],
            ),
        ];
        for (doc, description, args) in cases {
            let (got_description, mut got_args) = parse(doc);
            got_args.sort();
            let want: Vec<(String, String)> = args
                .iter()
                .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
                .collect();
            assert_eq!(
                got_description.as_deref(),
                *description,
                "description of {doc:?}"
            );
            assert_eq!(got_args, want, "arguments of {doc:?}");
        }
    }
}
