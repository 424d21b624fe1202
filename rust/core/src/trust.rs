//! Which certificates a `wss://` client trusts when the user named none
//! (`connect_to_url` without `TLSOptions`, or `TLSOptions.client()` without
//! a chain), in the engine's order: the bundle the project names (the
//! project setting `network/tls/certificate_bundle_override`), else the
//! system's CA certificates (the OS's store: the engine's own list of bundle
//! files on Linux), else the roots built in (Mozilla's, from `webpki-roots`).
//!
//! The embedder says where the first two come from ([`set_default_trust`]);
//! the roots are read once per process, at the first connection that needs
//! them, and a source that cannot be used is said once, not per connection.
//! A bundle the project names but that cannot be read or holds no
//! certificate leaves no roots at all (connections fail with an unknown
//! issuer), as the user asked for that bundle only.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::sync::{Arc, OnceLock};

/// Where the default roots come from, as the embedder finds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSources {
    /// The bundle the project names: its name and its PEM text, or why it
    /// could not be read. `None` when the project names none.
    pub bundle_override: Option<(String, Result<Vec<u8>, String>)>,
    /// The system's CA certificates as PEM ("" when the system has none).
    pub system_pem: Vec<u8>,
}

/// Where the roots in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustOrigin {
    /// The bundle the project names (its name).
    Bundle(String),
    /// The system's CA certificates.
    System,
    /// The roots built in.
    BuiltIn,
}

impl std::fmt::Display for TrustOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustOrigin::Bundle(name) => write!(
                f,
                "the bundle {name} (network/tls/certificate_bundle_override)"
            ),
            TrustOrigin::System => f.write_str("the system's CA certificates"),
            TrustOrigin::BuiltIn => f.write_str("the roots built in (Mozilla's)"),
        }
    }
}

type SourceFn = Box<dyn Fn() -> TrustSources + Send + Sync>;

static SOURCES: OnceLock<SourceFn> = OnceLock::new();
static ROOTS: OnceLock<(Arc<RootCertStore>, TrustOrigin)> = OnceLock::new();

/// Tells where the default roots come from (once, before the first
/// connection; later calls are ignored). Without it the built-in roots are
/// used.
pub fn set_default_trust(sources: impl Fn() -> TrustSources + Send + Sync + 'static) {
    let _ = SOURCES.set(Box::new(sources));
}

/// The default roots and where they came from (read at the first call;
/// what there is to say about them is printed after the read, by the
/// caller that made it).
pub fn default_roots() -> (Arc<RootCertStore>, TrustOrigin) {
    let mut said = Vec::new();
    let roots = ROOTS
        .get_or_init(|| {
            let sources = SOURCES.get().map(|f| f()).unwrap_or_default();
            let (roots, origin) = choose(sources, &mut said);
            said.push((
                log::Level::Info,
                format!(
                    "wss:// clients trust {origin} by default ({} certificates)",
                    roots.len()
                ),
            ));
            (Arc::new(roots), origin)
        })
        .clone();
    for (level, line) in said {
        log::log!(level, "{line}");
    }
    roots
}

/// Where the default roots come from, if they have been read (never reads
/// them).
pub fn origin_if_read() -> Option<TrustOrigin> {
    ROOTS.get().map(|(_, origin)| origin.clone())
}

/// Whether a connection may take the default roots now without waiting:
/// they have been read, or no thread reads them (then the caller does).
/// Starts that thread ([`prefetch`]) if it was not.
pub fn ready() -> bool {
    prefetch();
    ROOTS.get().is_some() || !PREFETCHING.load(std::sync::atomic::Ordering::Acquire)
}

/// Whether the thread of [`prefetch`] runs (or ran).
static PREFETCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Starts reading the default roots on a thread of their own, once, so the
/// connection that needs them finds them read instead of reading the
/// system's store on the game's thread, where a lock of the game's object
/// is held (a few milliseconds, more on a slow disk). Connections wait for
/// that read without blocking ([`ready`]).
pub fn prefetch() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    if ROOTS.get().is_some() {
        return;
    }
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("ws-trust".into())
            .spawn(|| {
                default_roots();
            });
        // Without a thread, the first connection reads them, as before.
        PREFETCHING.store(spawned.is_ok(), std::sync::atomic::Ordering::Release);
        if let Ok(handle) = spawned {
            *READER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        }
    });
}

/// The thread of [`prefetch`], until [`finish_trust_read`] waits for it.
static READER: std::sync::Mutex<Option<std::thread::JoinHandle<()>>> = std::sync::Mutex::new(None);

/// Waits for the thread reading the default roots, if one runs: the
/// embedder calls it before it goes away (the read may call into it).
pub fn finish_trust_read() {
    let reader = READER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(reader) = reader {
        let _ = reader.join();
    }
}

/// The built-in roots.
pub fn built_in() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The roots of a PEM text (certificates a parser or rustls refuses are
/// left out) and how many were left out.
fn parse(pem: &[u8]) -> (RootCertStore, usize) {
    let mut roots = RootCertStore::empty();
    let mut refused = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let added = cert.ok().is_some_and(|cert| roots.add(cert).is_ok());
        if !added {
            refused += 1;
        }
    }
    (roots, refused)
}

/// The engine's order, with what goes wrong said once.
fn choose(
    sources: TrustSources,
    said: &mut Vec<(log::Level, String)>,
) -> (RootCertStore, TrustOrigin) {
    if let Some((name, bundle)) = sources.bundle_override {
        let origin = TrustOrigin::Bundle(name.clone());
        let roots = match bundle {
            Ok(pem) => {
                let (roots, refused) = parse(&pem);
                if roots.is_empty() {
                    said.push((log::Level::Error, format!(
                        "network/tls/certificate_bundle_override names {name}, which holds no certificate this can use; wss:// connections that use the default trust will fail"
                    )));
                } else if refused > 0 {
                    said.push((
                        log::Level::Warn,
                        format!("{refused} certificate(s) of {name} could not be used"),
                    ));
                }
                roots
            }
            Err(why) => {
                said.push((log::Level::Error, format!(
                    "network/tls/certificate_bundle_override names {name}, which cannot be read ({why}); wss:// connections that use the default trust will fail"
                )));
                RootCertStore::empty()
            }
        };
        return (roots, origin);
    }
    if !sources.system_pem.is_empty() {
        let (roots, refused) = parse(&sources.system_pem);
        if !roots.is_empty() {
            if refused > 0 {
                said.push((
                    log::Level::Debug,
                    format!("{refused} of the system's CA certificates could not be used"),
                ));
            }
            return (roots, TrustOrigin::System);
        }
        said.push((log::Level::Warn, "the system's CA certificates could not be read as PEM; wss:// clients trust the roots built in instead".into()));
    }
    (built_in(), TrustOrigin::BuiltIn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose_quietly(sources: TrustSources) -> (RootCertStore, TrustOrigin) {
        choose(sources, &mut Vec::new())
    }

    fn pem_of(count: usize) -> Vec<u8> {
        let mut pem = Vec::new();
        for i in 0..count {
            let key = rcgen::KeyPair::generate().expect("key");
            let mut params =
                rcgen::CertificateParams::new(vec![format!("ca{i}.test")]).expect("params");
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).expect("cert");
            pem.extend_from_slice(cert.pem().as_bytes());
        }
        pem
    }

    #[test]
    fn the_engines_order() {
        let two = pem_of(2);
        let bundle = |r: Result<Vec<u8>, String>| Some(("res://ca.crt".to_string(), r));
        // The project's bundle wins over the system's.
        let (roots, origin) = choose_quietly(TrustSources {
            bundle_override: bundle(Ok(two.clone())),
            system_pem: pem_of(1),
        });
        assert_eq!(
            (roots.len(), origin),
            (2, TrustOrigin::Bundle("res://ca.crt".into()))
        );
        // A bundle that cannot be used leaves no roots (never a silent
        // fall-back past what the project asked for).
        let (roots, _) = choose_quietly(TrustSources {
            bundle_override: bundle(Err("no such file".into())),
            system_pem: two.clone(),
        });
        assert!(roots.is_empty());
        let (roots, _) = choose_quietly(TrustSources {
            bundle_override: bundle(Ok(b"not pem".to_vec())),
            system_pem: two.clone(),
        });
        assert!(roots.is_empty());
        // Else the system's, else the built-in roots.
        let (roots, origin) = choose_quietly(TrustSources {
            bundle_override: None,
            system_pem: two,
        });
        assert_eq!((roots.len(), origin), (2, TrustOrigin::System));
        let (roots, origin) = choose_quietly(TrustSources::default());
        assert_eq!(origin, TrustOrigin::BuiltIn);
        assert_eq!(roots.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        let (_, origin) = choose_quietly(TrustSources {
            bundle_override: None,
            system_pem: b"garbage".to_vec(),
        });
        assert_eq!(origin, TrustOrigin::BuiltIn);
    }
}
