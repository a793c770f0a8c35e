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
        let (lower, other) = (name.to_lowercase(), candidate.to_lowercase());
        let mut score = strsim::jaro_winkler(&lower, &other);
        // `depth` for `max_depth`: a name that is a whole `_`-part of the candidate is plausible.
        if lower.len() >= 3
            && (other.split('_').any(|part| part == lower)
                || lower.split('_').any(|part| part == other))
        {
            score = score.max(0.8);
        }
        // Ties go to the alphabetically first candidate, so output does not depend on the
        // order candidates come in.
        let better = match best {
            None => true,
            Some((s, c)) => match score.total_cmp(&s) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => candidate < c,
                std::cmp::Ordering::Less => false,
            },
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
        assert_eq!(
            did_you_mean("depth", ["max_depth", "rows"]).as_deref(),
            Some("max_depth")
        );
    }
}
