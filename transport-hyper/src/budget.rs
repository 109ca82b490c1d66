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
//! password. A call to the host the client last looked up, spelled the
//! same way, finds its budget by comparing the URL's scheme and authority
//! under a read lock, and takes one reference count. Any other call makes
//! one pass over the URL's authority (the key is built on the stack for
//! host names up to 200 bytes) and one multiply-and-xor hash of it; a new
//! host takes the write lock once. The hash is seeded per client: a caller
//! who picks host names to collide can only make lookups walk the map's
//! bounded number of entries.
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
use core::hash::{BuildHasher, Hasher};
use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::collections::HashMap;
use std::hash::RandomState;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use http::Uri;
use http::uri::{Authority, Scheme};
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
    hosts: RwLock<Hosts>,
}

/// The map and the host the last new lookup found.
struct Hosts {
    map: HashMap<Box<str>, Arc<Entry>, KeyHash>,
    /// A client mostly calls one host, spelled one way: a call whose
    /// scheme and authority are byte for byte this one's takes its entry
    /// without building a key or hashing.
    recent: Option<Recent>,
}

/// A URL's scheme and authority as written, and the entry of their host.
struct Recent {
    scheme: Scheme,
    authority: Authority,
    entry: Arc<Entry>,
}

impl Recent {
    fn matches(&self, uri: &Uri) -> bool {
        uri.authority().map(Authority::as_str) == Some(self.authority.as_str())
            && uri.scheme_str() == Some(self.scheme.as_str())
    }
}

impl HostBudgets {
    pub(crate) fn new(max_tokens: u32, ratio: (u32, u32), max_hosts: NonZeroUsize) -> Self {
        Self {
            max_tokens,
            ratio,
            max_hosts,
            tick: AtomicUsize::new(0),
            hosts: RwLock::new(Hosts {
                map: HashMap::with_hasher(KeyHash::random()),
                recent: None,
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Hosts> {
        self.hosts.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Marks `entry` used now and gives its budget.
    fn touch(&self, entry: &Entry) -> Arc<RetryBudget> {
        entry
            .last_used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Arc::clone(&entry.budget)
    }

    /// The budget for `uri`'s host, if it has one, without marking it used.
    fn get(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        with_key(uri, |key| {
            let hosts = self.read();
            hosts.map.get(key).map(|e| Arc::clone(&e.budget))
        })
        .flatten()
    }

    /// The budget for `uri`'s host, a full one for a new host; `None` for a
    /// URI without a host.
    fn get_or_insert(&self, uri: &Uri) -> Option<Arc<RetryBudget>> {
        {
            let hosts = self.read();
            if let Some(recent) = &hosts.recent
                && recent.matches(uri)
            {
                return Some(self.touch(&recent.entry));
            }
        }
        let entry = with_key(uri, |key| {
            let entry = self.entry(key)?;
            // Remembered only while it is the map's entry for its key (an
            // eviction since must not come back through `recent`), and not
            // at the cost of waiting for the lock.
            if let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority())
                && let Ok(mut hosts) = self.hosts.try_write()
                && hosts.map.get(key).is_some_and(|e| Arc::ptr_eq(e, &entry))
            {
                hosts.recent = Some(Recent {
                    scheme: scheme.clone(),
                    authority: authority.clone(),
                    entry: Arc::clone(&entry),
                });
            }
            Some(entry)
        })
        .flatten()?;
        Some(self.touch(&entry))
    }

    /// The entry for `key`, made for a new host.
    fn entry(&self, key: &str) -> Option<Arc<Entry>> {
        if let Some(found) = self.read().map.get(key) {
            return Some(Arc::clone(found));
        }
        let mut hosts = self.hosts.write().unwrap_or_else(PoisonError::into_inner);
        // Another call may have added it between the two locks.
        if let Some(found) = hosts.map.get(key) {
            return Some(Arc::clone(found));
        }
        if hosts.map.len() >= self.max_hosts.get() {
            evict(&mut hosts.map);
            hosts.recent = None;
        }
        // The parameters were checked when the client was built.
        let budget = RetryBudget::new(self.max_tokens, self.ratio.0, self.ratio.1).ok()?;
        let entry = Arc::new(Entry {
            budget: Arc::new(budget),
            last_used: AtomicUsize::new(0),
        });
        hosts.map.insert(key.into(), Arc::clone(&entry));
        Some(entry)
    }
}

/// Makes room for one entry: drops every full bucket no call holds, or
/// else the least recently used entry.
fn evict(map: &mut HashMap<Box<str>, Arc<Entry>, KeyHash>) {
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
///
/// One pass over the authority as the URI holds it: the user name and
/// password (up to the last `@`) are left out, the port is the digits after
/// the last `:` outside an IPv6 literal's brackets, written back without
/// leading zeros; a port that is not a `u16` counts as none, as
/// [`Uri::port_u16`] has it.
fn with_key<R>(uri: &Uri, f: impl FnOnce(&str) -> R) -> Option<R> {
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?.as_str();
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else {
        None
    };
    let mut stack = [0u8; STACK_HOST + 32];
    let mut heap = Vec::new();
    let needed = scheme.len() + 3 + authority.len() + 6;
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
    let host_start = key.len;
    // Where in the key the last `:` outside brackets is.
    let mut colon = None;
    for b in authority.bytes() {
        match b {
            b'@' => {
                key.len = host_start;
                colon = None;
                continue;
            }
            b']' => colon = None,
            b':' => colon = Some(key.len),
            _ => {}
        }
        key.push(b.to_ascii_lowercase());
    }
    let port = match colon {
        Some(at) => {
            let port = key.buf.get(at + 1..key.len).and_then(parse_port);
            key.len = at;
            port.or(default_port)
        }
        None => default_port,
    };
    if let Some(port) = port {
        key.push_port(port);
    }
    let len = key.len;
    // Bytes of a parsed URI's scheme and authority are ASCII.
    let key = core::str::from_utf8(key.buf.get(..len)?).ok()?;
    Some(f(key))
}

/// A port's decimal digits as a `u16`; `None` for no digits, another byte
/// or a number past 65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u16, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u16::from(d - b'0'))
        } else {
            None
        }
    })
}

/// The host map's hash: a multiply-and-xor over eight bytes at a time,
/// seeded per map, folded at the end so that both the bucket index (low
/// bits) and hashbrown's tag (high bits) depend on every byte. A host key
/// is a few dozen bytes; SipHash spends hundreds of instructions on it.
#[derive(Clone, Copy)]
struct KeyHash(u64);

impl KeyHash {
    fn random() -> Self {
        Self(RandomState::new().build_hasher().finish())
    }
}

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(self.0)
    }
}

/// The state of one [`KeyHash`] hash.
struct KeyHasher(u64);

/// An odd constant with well-spread bits (the golden ratio's).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(MULTIPLIER).rotate_left(23);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        let mut w = [0u8; 8];
        if let Some(head) = w.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        // The length tells "a" from "a\0".
        self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        let folded = u128::from(self.0) * u128::from(MULTIPLIER);
        (folded as u64) ^ ((folded >> 64) as u64)
    }
}

/// Writes a key into a buffer sized for it.
struct KeyWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl KeyWriter<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_lower(&mut self, s: &str) {
        for b in s.bytes() {
            self.push(b.to_ascii_lowercase());
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
        self.push(b':');
        for &d in &digits[i..] {
            self.push(d);
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
        assert_eq!(key("http://h:0080/").unwrap(), "http://h:80");
        assert_eq!(key("http://u:p@h:/").unwrap(), "http://h:80");
        assert_eq!(key("/relative"), None);
        // A host too long for the stack buffer takes the heap, same key.
        let long = "a".repeat(300);
        assert_eq!(
            key(&format!("http://{long}:81/")).unwrap(),
            format!("http://{long}:81")
        );
    }

    /// The key as `Uri::host` and `Uri::port_u16` give its parts.
    fn parsed_key(uri: &Uri) -> Option<String> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let host = uri.host()?.to_ascii_lowercase();
        let port = uri.port_u16().or(match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        });
        Some(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        })
    }

    #[test]
    fn the_one_pass_key_agrees_with_the_parsed_host_and_port() {
        let hosts = [
            "h",
            "Api.Example.COM",
            "127.0.0.1",
            "[::1]",
            "[FE80::1%25eth0]",
            "xn--bcher-kva.example",
        ];
        let users = ["", "user@", "user:pw@", "u:p:q@", "a]b@", "x@y@"];
        let ports = [
            "", ":", ":0", ":80", ":0080", ":8080", ":65535", ":65536", ":99999",
        ];
        let mut checked = 0;
        for scheme in ["http", "HTTPS", "ws"] {
            for user in users {
                for host in hosts {
                    for port in ports {
                        let url = format!("{scheme}://{user}{host}{port}/p?q=1");
                        let Ok(uri) = url.parse::<Uri>() else {
                            continue;
                        };
                        assert_eq!(with_key(&uri, str::to_owned), parsed_key(&uri), "{url}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 500, "only {checked} URLs parsed");
    }

    #[test]
    fn the_hash_spreads_keys_over_buckets_and_tags() {
        let hash = KeyHash(7);
        let keys: Vec<String> = (0..4096).map(|i| format!("http://h{i}.test:80")).collect();
        let mut low = std::collections::HashSet::new();
        let mut high = std::collections::HashSet::new();
        for key in &keys {
            let h = hash.hash_one(key.as_str());
            low.insert(h & 0xfff);
            high.insert(h >> 57);
        }
        // 4096 keys in 4096 buckets: about 63 % of them taken at random.
        assert!(low.len() > 2400, "{} low values", low.len());
        assert_eq!(high.len(), 128, "every 7-bit tag is used");
        assert_ne!(hash.hash_one("a"), hash.hash_one("a\0"));
        assert_ne!(KeyHash(1).hash_one("a"), KeyHash(2).hash_one("a"));
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

    fn last_used(hosts: &HostBudgets, url: &str) -> usize {
        let key = with_key(&uri(url), str::to_owned).unwrap();
        hosts.read().map[key.as_str()]
            .last_used
            .load(Ordering::Relaxed)
    }

    #[test]
    fn the_recent_spelling_takes_the_same_budget_and_marks_it_used() {
        let hosts = hosts(8);
        let a = hosts.get_or_insert(&uri("http://a.test/x")).unwrap();
        let before = last_used(&hosts, "http://a.test/");
        // Byte for byte the recent authority: the shortcut.
        let again = hosts.get_or_insert(&uri("http://a.test/y?z")).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        assert!(last_used(&hosts, "http://a.test/") > before);
        // Other spellings of the host take the map, and the same budget.
        for other in ["http://A.TEST/", "http://a.test:80/", "http://u@a.test/"] {
            assert!(
                Arc::ptr_eq(&a, &hosts.get_or_insert(&uri(other)).unwrap()),
                "{other}"
            );
        }
        // The shortcut never mixes hosts or schemes.
        let b = hosts.get_or_insert(&uri("http://a.test:81/")).unwrap();
        let c = hosts.get_or_insert(&uri("https://a.test:80/")).unwrap();
        assert!(!Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &c) && !Arc::ptr_eq(&b, &c));
        assert!(Arc::ptr_eq(
            &c,
            &hosts.get_or_insert(&uri("https://a.test:80/")).unwrap()
        ));
        assert_eq!(hosts.len(), 3);
    }

    #[test]
    fn an_evicted_recent_host_comes_back_through_the_map() {
        let hosts = hosts(1);
        let a = hosts.get_or_insert(&uri("http://a.test/")).unwrap();
        a.record_failure();
        // b evicts a, the least recently used, and replaces the shortcut.
        hosts
            .get_or_insert(&uri("http://b.test/"))
            .unwrap()
            .record_failure();
        assert!(hosts.get(&uri("http://a.test/")).is_none());
        let a2 = hosts.get_or_insert(&uri("http://a.test/")).unwrap();
        assert!(!Arc::ptr_eq(&a, &a2), "a new, full bucket");
        assert!(Arc::ptr_eq(
            &a2,
            &hosts.get(&uri("http://a.test/")).unwrap()
        ));
        assert_eq!(hosts.len(), 1);
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
