//! Per-address rate limit of the event endpoint: a token bucket per client address. A real
//! visitor sends a pageview every few seconds; an office behind one NAT, a few dozen people at
//! once. Anything far above that is a script filling the database, and gets 429.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Addresses remembered at most; past this, idle buckets are dropped (and if all are busy, the
/// oldest), so a flood of spoofed addresses cannot grow memory without bound.
const MAX_TRACKED: usize = 50_000;

pub struct RateLimit {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    pub fn new(per_sec: f64, burst: f64) -> Self {
        Self { per_sec, burst, buckets: Mutex::default() }
    }

    /// Takes one token for `addr`; `Err(secs)` says when to try again.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        self.check_at(addr, Instant::now())
    }

    fn check_at(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&addr) {
            let full = self.burst;
            let per_sec = self.per_sec;
            // A bucket that would be full again by now carries no information.
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_sec < full);
            if buckets.len() >= MAX_TRACKED {
                let oldest = buckets.iter().min_by_key(|(_, (_, at))| *at).map(|(ip, _)| *ip);
                if let Some(ip) = oldest {
                    buckets.remove(&ip);
                }
            }
        }
        let (tokens, at) = buckets.entry(addr).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let limit = RateLimit::new(10.0, 20.0);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..20 {
            assert!(limit.check_at(ip, t0).is_ok());
        }
        assert_eq!(limit.check_at(ip, t0), Err(1));
        // Other addresses have their own bucket.
        assert!(limit.check_at("203.0.113.8".parse().unwrap(), t0).is_ok());
        // A second later, ten more.
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..10 {
            assert!(limit.check_at(ip, t1).is_ok());
        }
        assert!(limit.check_at(ip, t1).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_spoofed_addresses() {
        let limit = RateLimit::new(10.0, 20.0);
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 500) {
            let _ = limit.check_at(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(limit.tracked() <= MAX_TRACKED);
    }
}
