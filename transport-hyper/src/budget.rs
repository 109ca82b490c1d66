//! The client's retry budgets: one [`RetryBudget`] per host by default,
//! kept in a map every clone of the client shares.
//!
//! A budget bounds a fleet's load in an outage to about
//! `1 + (max_tokens / 2) / calls` attempts per call, so it must see many
//! calls: one budget per client object would see few of them, one per
//! server sees them all. This follows gRPC's retry throttling (proposal A6),
//! which keeps one token bucket per server, shared by every call a channel
//! makes to it, and Envoy, whose retry budget belongs to the upstream
//! cluster rather than to one request.
//!
//! # The key
//!
//! A host is its scheme, host name and port, in lower case, with the
//! scheme's default port written out (`http://api.example.com:80`): the
//! same server however the URL spells it, and never a URL's user name or
//! password. Finding a host's budget is one read lock, one hash of the key
//! (built on the stack for host names up to 200 bytes) and one reference
//! count; a new host takes the write lock once.
//!
//! # The bound
//!
//! The map holds at most `max_hosts` budgets (default
//! [`DEFAULT_RETRY_BUDGET_MAX_HOSTS`]). A new host past the bound first
//! drops every full bucket no call is using (a full bucket holds nothing a
//! fresh one would not), and if none was dropped, the least recently used
//! one. A host dropped while failing comes back with a full bucket: a
//! client that talks to more hosts than the bound throttles less, never
//! more, and its memory stays bounded.

use core::fmt;
use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use http::Uri;
use tenace::RetryBudget;

/// Tokens in each host's bucket by default: gRPC's `maxTokens` in its
/// retry-throttling example.
pub const DEFAULT_RETRY_BUDGET_TOKENS: u32 = 10;

/// The refund per success by default, `(numerator, denominator)`: a tenth
/// of a token, gRPC's `tokenRatio` in its retry-throttling example.
pub const DEFAULT_RETRY_BUDGET_RATIO: (u32, u32) = (1, 10);

/// How many hosts a client keeps a budget for by default.
pub const DEFAULT_RETRY_BUDGET_MAX_HOSTS: NonZeroUsize = NonZeroUsize::new(256).unwrap();

/// What the builder was told.
pub(crate) enum BudgetSetting {
    /// One budget per host, with these parameters.
    PerHost {
        max_tokens: u32,
        ratio: (u32, u32),
        max_hosts: NonZeroUsize,
    },
    /// One budget for every host.
    Shared(Arc<RetryBudget>),
    /// No budget.
    Off,
}

impl Default for BudgetSetting {
    fn default() -> Self {
        Self::PerHost {
            max_tokens: DEFAULT_RETRY_BUDGET_TOKENS,
            ratio: DEFAULT_RETRY_BUDGET_RATIO,
            max_hosts: DEFAULT_RETRY_BUDGET_MAX_HOSTS,
        }
    }
}

impl fmt::Debug for BudgetSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerHost {
                max_tokens,
                ratio,
                max_hosts,
            } => f
                .debug_struct("PerHost")
                .field("max_tokens", max_tokens)
                .field("token_ratio", ratio)
                .field("max_hosts", max_hosts)
                .finish(),
            Self::Shared(budget) => f.debug_tuple("Shared").field(budget).finish(),
            Self::Off => f.write_str("Off"),
        }
    }
}

impl BudgetSetting {
    /// The client's budgets, empty.
    pub(crate) fn build(self) -> Budgets {
        match self {
            Self::PerHost {
                max_tokens,
                ratio,
                max_hosts,
            } => Budgets::PerHost(HostBudgets::new(max_tokens, ratio, max_hosts)),
            Self::Shared(budget) => Budgets::Shared(budget),
            Self::Off => Budgets::Off,
        }
    }
}

/// A client's budgets, shared by its clones.
pub(crate) enum Budgets {
    PerHost(HostBudgets),
    Shared(Arc<RetryBudget>),
    Off,
}

impl fmt::Debug for Budgets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerHost(hosts) => f
                .debug_struct("PerHost")
                .field("max_tokens", &hosts.max_tokens)
                .field("token_ratio", &hosts.ratio)
                .field("max_hosts", &hosts.max_hosts)
                .field("hosts", &hosts.len())
                .finish(),
            Self::Shared(budget) => f.debug_tuple("Shared").field(budget).finish(),
            Self::Off => f.write_str("Off"),
        }
    }
}

impl Budgets {
    /// The budget a call to `uri` runs under, made for a new host.
    pub(crate) fn for_call(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        match self {
            Self::PerHost(hosts) => hosts.get_or_insert(uri),
            Self::Shared(budget) => Some(Arc::clone(budget)),
            Self::Off => None,
        }
    }

    /// The budget a call to `uri` would run under, if there is one now.
    pub(crate) fn peek(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        match self {
            Self::PerHost(hosts) => hosts.get(uri),
            Self::Shared(budget) => Some(Arc::clone(budget)),
            Self::Off => None,
        }
    }

    /// How many per-host budgets are kept (0 for a shared budget or none).
    pub(crate) fn hosts(&self) -> usize {
        match self {
            Self::PerHost(hosts) => hosts.len(),
            Self::Shared(_) | Self::Off => 0,
        }
    }
}

/// One host's budget and when a call last used it.
struct Entry {
    budget: Arc<RetryBudget>,
    last_used: AtomicUsize,
}

/// The per-host budgets: a map from host key to budget, bounded.
pub(crate) struct HostBudgets {
    max_tokens: u32,
    ratio: (u32, u32),
    max_hosts: NonZeroUsize,
    /// A logical clock for "least recently used": one tick per lookup
    /// (wrapping on a 32-bit target makes a recent host look old once, and
    /// only costs that host its bucket early).
    tick: AtomicUsize,
    map: RwLock<HashMap<Box<str>, Entry>>,
}

impl HostBudgets {
    pub(crate) fn new(max_tokens: u32, ratio: (u32, u32), max_hosts: NonZeroUsize) -> Self {
        Self {
            max_tokens,
            ratio,
            max_hosts,
            tick: AtomicUsize::new(0),
            map: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The budget for `uri`'s host, if it has one, without marking it used.
    fn get(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        with_key(uri, |key| self.lookup(key, false)).flatten()
    }

    /// The budget for `uri`'s host, a full one for a new host; `None` for a
    /// URI without a host.
    fn get_or_insert(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        with_key(uri, |key| {
            if let Some(found) = self.lookup(key, true) {
                return Some(found);
            }
            let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
            let now = self.tick.fetch_add(1, Ordering::Relaxed);
            // Another call may have added it between the two locks.
            if let Some(entry) = map.get(key) {
                entry.last_used.store(now, Ordering::Relaxed);
                return Some(Arc::clone(&entry.budget));
            }
            if map.len() >= self.max_hosts.get() {
                evict(&mut map);
            }
            // The parameters were checked when the client was built.
            let budget =
                Arc::new(RetryBudget::new(self.max_tokens, self.ratio.0, self.ratio.1).ok()?);
            map.insert(
                key.into(),
                Entry {
                    budget: Arc::clone(&budget),
                    last_used: AtomicUsize::new(now),
                },
            );
            Some(budget)
        })
        .flatten()
    }

    /// The budget for `key`; `touch` marks it used now (a call), a look
    /// for metrics does not.
    fn lookup(&self, key: &str, touch: bool) -> Option<Arc<RetryBudget>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get(key)?;
        if touch {
            entry
                .last_used
                .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        }
        Some(Arc::clone(&entry.budget))
    }
}

/// Makes room for one entry: drops every full bucket no call holds, or
/// else the least recently used entry.
fn evict(map: &mut HashMap<Box<str>, Entry>) {
    let before = map.len();
    map.retain(|_, e| !(is_full(&e.budget) && Arc::strong_count(&e.budget) == 1));
    if map.len() < before {
        return;
    }
    let oldest = map
        .iter()
        .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
        .map(|(k, _)| k.clone());
    if let Some(oldest) = oldest {
        map.remove(&oldest);
    }
}

fn is_full(budget: &RetryBudget) -> bool {
    u64::from(budget.scaled_tokens())
        >= u64::from(budget.max_tokens()) * u64::from(budget.token_scale())
}

/// Host names up to this length build their key on the stack.
const STACK_HOST: usize = 200;

/// Calls `f` with `uri`'s host key, `scheme://host:port` in lower case (the
/// port omitted only for a scheme without a known default); `None` for a
/// URI without a scheme or host.
fn with_key<R>(uri: &Uri, f: impl FnOnce(&str) -> R) -> Option<R> {
    let scheme = uri.scheme_str()?;
    let host = uri.host()?;
    let port = uri.port_u16().or_else(|| {
        if scheme.eq_ignore_ascii_case("http") {
            Some(80)
        } else if scheme.eq_ignore_ascii_case("https") {
            Some(443)
        } else {
            None
        }
    });
    let mut stack = [0u8; STACK_HOST + 32];
    let mut heap = Vec::new();
    let needed = scheme.len() + 3 + host.len() + 6;
    let mut key = KeyWriter {
        buf: if needed <= stack.len() {
            &mut stack[..]
        } else {
            heap.resize(needed, 0);
            &mut heap[..]
        },
        len: 0,
    };
    key.push_lower(scheme);
    key.push_lower("://");
    key.push_lower(host);
    if let Some(port) = port {
        key.push_port(port);
    }
    let len = key.len;
    // Bytes of a parsed URI's scheme and host are ASCII.
    let key = core::str::from_utf8(key.buf.get(..len)?).ok()?;
    Some(f(key))
}

/// Writes a key into a buffer sized for it.
struct KeyWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl KeyWriter<'_> {
    fn push_lower(&mut self, s: &str) {
        for b in s.bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b.to_ascii_lowercase();
                self.len += 1;
            }
        }
    }

    fn push_port(&mut self, port: u16) {
        let mut digits = [0u8; 5];
        let mut n = port;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push_lower(":");
        for &d in &digits[i..] {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = d;
                self.len += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> Option<String> {
        with_key(&url.parse().unwrap(), str::to_owned)
    }

    fn hosts(max: usize) -> HostBudgets {
        HostBudgets::new(4, (1, 2), NonZeroUsize::new(max).unwrap())
    }

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn keys_are_scheme_host_and_port() {
        assert_eq!(
            key("http://Api.Example.COM/x?q=1").unwrap(),
            "http://api.example.com:80"
        );
        assert_eq!(
            key("http://api.example.com:80/").unwrap(),
            "http://api.example.com:80"
        );
        assert_eq!(
            key("HTTPS://user:secret@api.example.com/").unwrap(),
            "https://api.example.com:443"
        );
        assert_eq!(
            key("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(key("http://[::1]:0/").unwrap(), "http://[::1]:0");
        assert_eq!(key("http://h:65535/").unwrap(), "http://h:65535");
        assert_eq!(key("ws://h/").unwrap(), "ws://h");
        assert_eq!(key("/relative"), None);
        // A host too long for the stack buffer takes the heap, same key.
        let long = "a".repeat(300);
        assert_eq!(
            key(&format!("http://{long}:81/")).unwrap(),
            format!("http://{long}:81")
        );
    }

    #[test]
    fn one_budget_per_host() {
        let hosts = hosts(8);
        let a = hosts.get_or_insert(&uri("http://a.test/x")).unwrap();
        let a2 = hosts.get_or_insert(&uri("http://A.test:80/y")).unwrap();
        let b = hosts.get_or_insert(&uri("http://a.test:81/")).unwrap();
        assert!(Arc::ptr_eq(&a, &a2));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!((a.max_tokens(), a.token_ratio()), (4, (1, 2)));
        assert_eq!(hosts.len(), 2);
        assert!(hosts.get(&uri("http://c.test/")).is_none());
        assert_eq!(hosts.len(), 2, "a lookup adds nothing");
        assert!(hosts.get_or_insert(&uri("/no-host")).is_none());
    }

    #[test]
    fn the_map_stays_at_its_bound() {
        let hosts = hosts(16);
        for i in 0..1_000 {
            let budget = hosts
                .get_or_insert(&uri(&format!("http://h{i}.test/")))
                .unwrap();
            // Every host is failing: no bucket is full.
            budget.record_failure();
            assert_eq!(hosts.len(), (i + 1).min(16));
        }
        // The 16 most recent hosts are kept.
        assert!(hosts.get(&uri("http://h983.test/")).is_none());
        assert!(hosts.get(&uri("http://h984.test/")).is_some());
        assert!(hosts.get(&uri("http://h999.test/")).is_some());
    }

    #[test]
    fn full_buckets_go_first_then_the_least_recently_used() {
        let hosts = hosts(3);
        let failing = |name: &str| {
            hosts.get_or_insert(&uri(name)).unwrap().record_failure();
        };
        failing("http://a.test/"); // oldest, failing
        drop(hosts.get_or_insert(&uri("http://b.test/"))); // full, unused
        failing("http://c.test/");
        // d: b is full and unused, so b goes, not a.
        failing("http://d.test/");
        assert_eq!(hosts.len(), 3);
        assert!(hosts.get(&uri("http://b.test/")).is_none());
        // A look does not count as a use; a call to a does: now c is the
        // least recently used.
        assert!(hosts.get(&uri("http://c.test/")).is_some());
        failing("http://a.test/");
        failing("http://e.test/");
        assert!(hosts.get(&uri("http://c.test/")).is_none());
        for kept in ["http://a.test/", "http://d.test/", "http://e.test/"] {
            assert!(hosts.get(&uri(kept)).is_some(), "{kept}");
        }
        // A full bucket a call still holds is not dropped as full.
        let held = hosts.get_or_insert(&uri("http://f.test/")); // d is the LRU
        assert!(hosts.get(&uri("http://d.test/")).is_none());
        failing("http://g.test/"); // f is full but held: the LRU, a, goes
        assert!(hosts.get(&uri("http://f.test/")).is_some());
        assert!(hosts.get(&uri("http://a.test/")).is_none());
        assert!(hosts.get(&uri("http://e.test/")).is_some());
        drop(held);
    }

    #[test]
    fn shared_and_off() {
        let shared = Arc::new(RetryBudget::new(3, 1, 1).unwrap());
        let budgets = BudgetSetting::Shared(Arc::clone(&shared)).build();
        for url in ["http://a.test/", "http://b.test/"] {
            assert!(Arc::ptr_eq(&budgets.for_call(&uri(url)).unwrap(), &shared));
        }
        assert_eq!(budgets.hosts(), 0);
        let off = BudgetSetting::Off.build();
        assert!(off.for_call(&uri("http://a.test/")).is_none());
        assert!(off.peek(&uri("http://a.test/")).is_none());
    }
}
