//! Did-you-mean suggestions for misspelled names.

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let score = strsim::jaro_winkler(&name.to_lowercase(), &candidate.to_lowercase());
        // Ties go to the alphabetically first candidate, so output does not depend on the
        // order candidates come in.
        let better = match best {
            None => true,
            Some((s, c)) => score > s || (score == s && candidate < c),
        };
        if better {
            best = Some((score, candidate));
        }
    }
    best.filter(|(score, _)| *score >= 0.8)
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn close_names_are_suggested_and_far_ones_not() {
        let names = ["train_model", "create_dataset", "deploy_model"];
        assert_eq!(
            did_you_mean("trian_model", names).as_deref(),
            Some("train_model")
        );
        assert_eq!(did_you_mean("evaluate", names), None);
    }
}
