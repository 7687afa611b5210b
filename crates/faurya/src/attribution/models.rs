//! The three attribution models, as pure functions over a visitor's sessions.
//!
//! - **first touch**: the visitor's first session;
//! - **last touch**: the session that carried the checkout (its id came with the payment), else
//!   the visitor's latest session that started before the payment;
//! - **last non-direct touch**: the visitor's latest session that was not Direct, up to the last
//!   touch; else the last touch itself (Direct).
//!
//! All three are computed for every payment and stored, so the reports can put them side by side.

use serde::Serialize;

/// A session started this long after the payment still counts: provider clocks and ours differ.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What the models need of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub rowid: i64,
    pub session_id: String,
    pub started_at: i64,
    pub direct: bool,
}

/// Indexes into the visits the models credit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credit {
    pub first_touch: Option<usize>,
    pub last_touch: Option<usize>,
    pub last_non_direct: Option<usize>,
}

/// The model names, as the API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    FirstTouch,
    LastTouch,
    LastNonDirect,
}

impl Model {
    pub const ALL: [Model; 3] = [Model::FirstTouch, Model::LastTouch, Model::LastNonDirect];

    pub fn as_str(self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::LastNonDirect => "last_non_direct",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The prefix of this model's columns in `payments`.
    pub fn column_prefix(self) -> &'static str {
        match self {
            Model::FirstTouch => "ft",
            Model::LastTouch => "lt",
            Model::LastNonDirect => "lnd",
        }
    }
}

/// Credits `visits` (one visitor's sessions, sorted oldest first) for a payment at `paid_at` whose
/// checkout carried `checkout_session`.
pub fn credit(visits: &[Visit], checkout_session: Option<&str>, paid_at: i64) -> Credit {
    let before = |v: &Visit| v.started_at <= paid_at + CLOCK_SKEW_MS;
    let carried = checkout_session.and_then(|id| visits.iter().position(|v| v.session_id == id));
    let last_touch = carried.or_else(|| visits.iter().rposition(before));
    let Some(last) = last_touch else { return Credit::default() };
    // Visits are oldest first, so the first is never later than the last touch, and the visits
    // up to the last touch are exactly those that came before the checkout.
    let last_non_direct = (0..=last).rev().find(|&i| !visits[i].direct).unwrap_or(last);
    Credit { first_touch: Some(0), last_touch: Some(last), last_non_direct: Some(last_non_direct) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    fn visit(rowid: i64, hours: i64, direct: bool) -> Visit {
        Visit { rowid, session_id: format!("session_{rowid:04}"), started_at: hours * H, direct }
    }

    #[test]
    fn newsletter_then_direct_credits_email_first_and_last_non_direct() {
        // Day 1 from a newsletter; day 2 straight in, and pays in that session.
        let visits = [visit(1, 0, false), visit(2, 24, true)];
        let c = credit(&visits, Some("session_0002"), 25 * H);
        assert_eq!(c, Credit { first_touch: Some(0), last_touch: Some(1), last_non_direct: Some(0) });
    }

    #[test]
    fn all_direct_credits_direct_everywhere() {
        let visits = [visit(1, 0, true), visit(2, 5, true)];
        let c = credit(&visits, None, 6 * H);
        assert_eq!(c, Credit { first_touch: Some(0), last_touch: Some(1), last_non_direct: Some(1) });
    }

    #[test]
    fn without_a_checkout_session_the_latest_before_the_payment_is_last() {
        let visits = [visit(1, 0, false), visit(2, 10, false), visit(3, 30, false)];
        let c = credit(&visits, None, 20 * H);
        assert_eq!(c.last_touch, Some(1), "the session after the payment does not count");
        assert_eq!(c.first_touch, Some(0));
        assert_eq!(c.last_non_direct, Some(1));
    }

    #[test]
    fn a_checkout_session_wins_even_if_clocks_disagree() {
        let visits = [visit(1, 0, false), visit(2, 10, true)];
        let c = credit(&visits, Some("session_0002"), 9 * H);
        assert_eq!(c.last_touch, Some(1));
        assert_eq!(c.last_non_direct, Some(0));
        assert_eq!(c.first_touch, Some(0));
    }

    #[test]
    fn an_unknown_checkout_session_falls_back_to_the_visitor() {
        let visits = [visit(1, 0, true)];
        let c = credit(&visits, Some("session_9999"), H);
        assert_eq!(c.last_touch, Some(0));
    }

    #[test]
    fn no_visits_or_only_later_ones_credit_nothing() {
        assert_eq!(credit(&[], Some("session_0001"), H), Credit::default());
        assert_eq!(credit(&[visit(1, 10, false)], None, H), Credit::default());
    }

    #[test]
    fn a_non_direct_session_after_the_last_touch_is_not_used() {
        let visits = [visit(1, 0, true), visit(2, 5, true), visit(3, 6, false)];
        let c = credit(&visits, Some("session_0002"), 7 * H);
        assert_eq!(c.last_non_direct, Some(1), "Direct: nothing non-direct up to checkout");
    }

    #[test]
    fn models_parse_and_print() {
        for m in Model::ALL {
            assert_eq!(Model::parse(m.as_str()), Some(m));
        }
        assert_eq!(Model::parse("linear"), None);
    }
}
