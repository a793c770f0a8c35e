//! Cloud Scheduler's unix-cron format, checked at compile time: five fields (minute, hour,
//! day of month, month, day of week), each `*`, a value, a range `a-b`, a step `/n`, or a
//! comma-separated list of those; months and weekdays may be named (`JAN`, `MON`).

/// Why `schedule` is not a valid cron expression, if it is not.
pub(crate) fn problem(schedule: &str) -> Option<String> {
    const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        (
            "month",
            1,
            12,
            &[
                "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
            ],
        ),
        (
            "day of week",
            0,
            7,
            &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        ),
    ];
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("it has {} fields, not 5", fields.len()));
    }
    for (field, (what, min, max, names)) in fields.iter().zip(FIELDS) {
        let value = |text: &str| -> Option<u32> {
            let upper = text.to_ascii_uppercase();
            if let Some(index) = names.iter().position(|n| *n == upper) {
                let offset = u32::from(what == "month");
                return u32::try_from(index).ok().map(|i| i + offset);
            }
            text.parse::<u32>().ok().filter(|v| (min..=max).contains(v))
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (part, None),
            };
            if let Some(step) = step
                && step.parse::<u32>().map_or(true, |s| s == 0 || s > max)
            {
                return Some(format!(
                    "the step `/{step}` of the {what} field is not a number from 1 to {max}"
                ));
            }
            let ok = match range.split_once('-') {
                _ if range == "*" => true,
                Some((from, to)) => {
                    matches!((value(from), value(to)), (Some(a), Some(b)) if a <= b)
                }
                None => value(range).is_some(),
            };
            if !ok {
                return Some(format!("`{part}` is not a valid {what} ({min} to {max})"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn cloud_scheduler_cron_expressions() {
        for good in [
            "0 */12 * * *",
            "*/5 9-17 * * MON-FRI",
            "30 2 1,15 JAN,jul 0",
            "0 0 * * 7",
        ] {
            assert_eq!(problem(good), None, "{good}");
        }
        for bad in [
            "61 * * * *",
            "*/0 * * * *",
            "0 0 * *",
            "0 0 * * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "5-1 * * * *",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
