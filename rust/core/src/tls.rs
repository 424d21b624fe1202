//! Client-side TLS with rustls: building the configuration that `TLSOptions`
//! asks for (the default roots of [`crate::trust`], a trusted chain given as
//! PEM, or no verification), a non-blocking TLS stream over a `TcpStream`,
//! and errors that name the cause of a refused certificate.

use crate::error::{CertificateCause, WsError};
use crate::readiness::Socket;
use crate::transport::Stream;
use crate::trust;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
pub use rustls::ServerConfig;
use rustls::{
    CertificateError, CipherSuite, ClientConfig, ClientConnection, DigitallySignedStruct,
    RootCertStore, ServerConnection, SignatureScheme,
};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What the user's `TLSOptions` (or its absence) asks of a `wss://` client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsClientOptions {
    /// Verify against the default roots (see [`crate::trust`]) and the
    /// URL's host name.
    #[default]
    Default,
    /// `TLSOptions.client(trusted_chain, common_name_override)`: verify against
    /// the given PEM certificates (the default roots when `None`; a chain that
    /// holds no certificate is an error, never the default roots) and the
    /// override name (the URL's host when empty).
    Trusted {
        /// The trusted certificates, as PEM.
        ca_pem: Option<Vec<u8>>,
        /// The name the server's certificate must have ("": the URL's host).
        common_name_override: String,
    },
    /// `TLSOptions.client_unsafe(trusted_chain)` with a chain, as the engine
    /// does it: the server's certificate must be signed by one of these PEM
    /// certificates (and be in date); only its host name is not checked. A
    /// chain that holds no certificate is an error.
    ChainOnly {
        /// The trusted certificates, as PEM.
        ca_pem: Vec<u8>,
    },
    /// `TLSOptions.client_unsafe()` without a chain: no verification at all
    /// (testing only).
    Unsafe,
}

/// The certificates of a PEM chain the user gave; an empty chain is an
/// error, never "the default roots".
fn roots_from_pem(ca_pem: &[u8]) -> Result<Arc<RootCertStore>, WsError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| {
            WsError::Tls(format!("the trusted_chain could not be read as PEM: {e:?}"))
        })?;
        roots.add(cert).map_err(|e| {
            WsError::Tls(format!(
                "a certificate of the trusted_chain was refused: {e}"
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(WsError::Tls(
            "the trusted_chain holds no certificate".into(),
        ));
    }
    Ok(Arc::new(roots))
}

/// ring's suites with AES-128-GCM offered first, as browsers do: a server
/// that follows the client's order (mbedtls, so the engine's StreamPeerTLS)
/// then spends 10 AES rounds per block instead of 14.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let mut p = rustls::crypto::ring::default_provider();
            p.cipher_suites.sort_by_key(|s| {
                !matches!(
                    s.suite(),
                    CipherSuite::TLS13_AES_128_GCM_SHA256
                        | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                        | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                )
            });
            Arc::new(p)
        })
        .clone()
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, WsError> {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| WsError::Tls(format!("cannot set up TLS: {e}")))
}

impl TlsClientOptions {
    /// Whether these options verify against the default roots.
    pub fn uses_default_roots(&self) -> bool {
        matches!(
            self,
            TlsClientOptions::Default | TlsClientOptions::Trusted { ca_pem: None, .. }
        )
    }

    /// What [`TlsClientOptions::client_config`] would refuse (a chain that
    /// holds no certificate, a name that cannot be a server name), found
    /// without reading the default roots.
    pub fn check(&self, host: &str) -> Result<(), WsError> {
        let name = match self {
            TlsClientOptions::Trusted {
                ca_pem,
                common_name_override,
            } => {
                if let Some(pem) = ca_pem {
                    roots_from_pem(pem)?;
                }
                if common_name_override.is_empty() {
                    host
                } else {
                    common_name_override.as_str()
                }
            }
            TlsClientOptions::ChainOnly { ca_pem } => {
                roots_from_pem(ca_pem)?;
                host
            }
            TlsClientOptions::Default | TlsClientOptions::Unsafe => host,
        };
        server_name(name).map(drop)
    }

    /// The rustls configuration and the name to verify the server against.
    pub fn client_config(
        &self,
        host: &str,
    ) -> Result<(Arc<ClientConfig>, ServerName<'static>), WsError> {
        static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        let (config, name) = match self {
            TlsClientOptions::Default => {
                let config = match DEFAULT.get() {
                    Some(c) => c.clone(),
                    None => {
                        let c = Arc::new(
                            builder()?
                                .with_root_certificates(trust::default_roots().0)
                                .with_no_client_auth(),
                        );
                        DEFAULT.get_or_init(|| c).clone()
                    }
                };
                (config, host)
            }
            TlsClientOptions::Trusted {
                ca_pem,
                common_name_override,
            } => {
                let roots = match ca_pem {
                    Some(ca_pem) => roots_from_pem(ca_pem)?,
                    None => trust::default_roots().0,
                };
                let config = Arc::new(
                    builder()?
                        .with_root_certificates(roots)
                        .with_no_client_auth(),
                );
                let name = if common_name_override.is_empty() {
                    host
                } else {
                    common_name_override.as_str()
                };
                (config, name)
            }
            TlsClientOptions::ChainOnly { ca_pem } => {
                let verifier = Arc::new(HostAgnostic {
                    provider: provider(),
                    roots: Some(roots_from_pem(ca_pem)?),
                });
                let config = builder()?
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth();
                (Arc::new(config), host)
            }
            TlsClientOptions::Unsafe => {
                let verifier = Arc::new(HostAgnostic {
                    provider: provider(),
                    roots: None,
                });
                let config = builder()?
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth();
                (Arc::new(config), host)
            }
        };
        Ok((config, server_name(name)?))
    }
}

/// `name` as the name TLS verifies the server against.
fn server_name(name: &str) -> Result<ServerName<'static>, WsError> {
    ServerName::try_from(name.to_string()).map_err(|_| {
        WsError::Tls(format!(
            "\"{}\" is not a valid server name for TLS",
            crate::shown::printable(name)
        ))
    })
}

/// The verifier of `client_unsafe`: never checks the host name; with
/// `roots`, the certificate must still chain to one of them and be in date
/// (the engine's `client_unsafe(trusted_chain)`), without, any certificate
/// is taken (`client_unsafe()`). The handshake signatures are always
/// checked.
#[derive(Debug)]
struct HostAgnostic {
    provider: Arc<CryptoProvider>,
    roots: Option<Arc<RootCertStore>>,
}

impl ServerCertVerifier for HostAgnostic {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls error wrapped in an `io::Error`, so the transport keeps the cause.
#[derive(Debug)]
pub struct TlsFailure(pub rustls::Error);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe(&self.0))
    }
}

impl std::error::Error for TlsFailure {}

/// A failed TLS handshake as the error to report: a refused certificate
/// with its cause, or another TLS failure.
pub fn error(err: &rustls::Error) -> WsError {
    let why = describe(err);
    let cause = match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => CertificateCause::UnknownIssuer,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => CertificateCause::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                CertificateCause::WrongHost
            }
            _ => CertificateCause::Other,
        },
        _ => return WsError::Tls(why),
    };
    WsError::Certificate { cause, why }
}

/// A user-facing description of a TLS failure that says what to do.
pub fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check the clock)".into()
            }
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a trusted authority (self-signed, or a private CA?): not by the trusted_chain given, or without one, by {}: add the CA there, name a bundle in the project setting network/tls/certificate_bundle_override, or pass TLSOptions.client(trusted_chain) with the CA (TLSOptions.client_unsafe() for testing only)",
                // Never read here: this may run where a lock is held.
                trust::origin_if_read().map_or("the default trust".to_string(), |o| o.to_string())
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => "the server's certificate is not valid for this host name; connect with the name in the certificate, or set common_name_override in TLSOptions.client()".into(),
            CertificateError::Revoked => "the server's certificate has been revoked".into(),
            // webpki's error type is not ours to name; its variant shows in Debug.
            CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => "the server presents a CA certificate as its own; give the server a certificate with basicConstraints CA:FALSE (signed by that CA, or self-signed and passed to TLSOptions.client())".into(),
            other => format!("the server's certificate was refused: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => format!("the server refused the TLS handshake (alert {alert:?})"),
        rustls::Error::PeerIncompatible(why) => format!("the server's TLS is incompatible: {why:?}"),
        other => format!("{other}"),
    }
}

/// The rustls configuration of a TLS server from `TLSOptions.server(key,
/// certificate)`, both as PEM (the certificate may be a chain, leaf first).
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, WsError> {
    let mut certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            WsError::Tls(format!(
                "the server certificate could not be read as PEM: {e:?}"
            ))
        })?;
    // Godot may write one certificate several times for a chain.
    certs.dedup();
    if certs.is_empty() {
        return Err(WsError::Tls(
            "the server TLSOptions has no certificate".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| WsError::Tls(format!("the server key could not be read as PEM: {e:?}")))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| WsError::Tls(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| WsError::Tls(format!("the server key does not suit its certificate: {e}")))?;
    Ok(Arc::new(config))
}

/// A non-blocking TLS stream, client or server side: rustls over a
/// socket that knows when it is idle ([`Socket`]).
pub struct TlsStream {
    conn: rustls::Connection,
    sock: Socket,
    /// The last read found no plaintext and the socket empty: until the
    /// socket has input again, a read would find nothing.
    dry: bool,
}

impl TlsStream {
    /// Starts a TLS client session on a connected (non-blocking) socket.
    pub fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        sock: TcpStream,
    ) -> Result<TlsStream, WsError> {
        let conn = ClientConnection::new(config, name).map_err(|e| WsError::Tls(describe(&e)))?;
        Ok(TlsStream {
            conn: conn.into(),
            sock: Socket::new(sock),
            dry: false,
        })
    }

    /// Starts the server side of a TLS session on an accepted socket.
    pub fn server(config: Arc<ServerConfig>, sock: TcpStream) -> Result<TlsStream, WsError> {
        Self::server_on(config, Socket::new(sock))
    }

    /// [`TlsStream::server`] on a socket already wrapped (and read from:
    /// a PROXY protocol header came before the TLS hello).
    pub fn server_on(config: Arc<ServerConfig>, sock: Socket) -> Result<TlsStream, WsError> {
        let conn = ServerConnection::new(config).map_err(|e| WsError::Tls(describe(&e)))?;
        Ok(TlsStream {
            conn: conn.into(),
            sock,
            dry: false,
        })
    }

    fn write_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn tls_error(&mut self, e: rustls::Error) -> io::Error {
        // Let the alert go out, if it can.
        let _ = self.write_tls();
        io::Error::new(io::ErrorKind::InvalidData, TlsFailure(e))
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.dry = false;
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            self.write_tls()?;
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    if let Err(e) = self.conn.process_new_packets() {
                        return Err(self.tls_error(e));
                    }
                    self.write_tls()?;
                }
                Err(e) => {
                    self.dry = e.kind() == io::ErrorKind::WouldBlock;
                    return Err(e);
                }
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        self.write_tls()?;
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_tls()
    }
}

impl Stream for TlsStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        Stream::peer_addr(&self.sock)
    }

    fn set_nodelay(&mut self, enabled: bool) {
        Stream::set_nodelay(&mut self.sock, enabled);
    }

    fn may_have_input(&self, now: Instant) -> bool {
        !self.dry || self.conn.wants_write() || self.sock.may_have_input(now)
    }

    fn tls_version(&self) -> Option<String> {
        self.conn
            .protocol_version()
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_unsafe_configs_build() {
        let (_, name) = TlsClientOptions::Default
            .client_config("example.com")
            .unwrap();
        assert_eq!(name.to_str(), "example.com");
        let (_, name) = TlsClientOptions::Unsafe.client_config("127.0.0.1").unwrap();
        assert_eq!(name.to_str(), "127.0.0.1");
    }

    #[test]
    fn override_name_and_bad_pem_are_reported() {
        let opts = TlsClientOptions::Trusted {
            ca_pem: None,
            common_name_override: "game.example".into(),
        };
        let (_, name) = opts.client_config("10.0.0.1").unwrap();
        assert_eq!(name.to_str(), "game.example");
        let bad = TlsClientOptions::Trusted {
            ca_pem: Some(b"not a pem".to_vec()),
            common_name_override: String::new(),
        };
        match bad.client_config("x") {
            Err(WsError::Tls(why)) => assert!(why.contains("no certificate"), "{why}"),
            other => panic!("{other:?}"),
        }
        // An empty chain is refused too: it must never mean "the default roots".
        let empty = TlsClientOptions::Trusted {
            ca_pem: Some(Vec::new()),
            common_name_override: String::new(),
        };
        match empty.client_config("x") {
            Err(WsError::Tls(why)) => assert!(why.contains("no certificate"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(TlsClientOptions::Default
            .client_config("bad host name!")
            .is_err());
    }

    /// A CA's certificate (PEM) and its issuer.
    fn ca(name: &str) -> (String, rcgen::CertifiedIssuer<'static, rcgen::KeyPair>) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let issuer =
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        (issuer.pem(), issuer)
    }

    /// A server configuration whose certificate is for `name`, signed by `ca`.
    fn server_signed_by(
        name: &str,
        ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    ) -> Arc<ServerConfig> {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .signed_by(&key, ca)
            .unwrap();
        server_config(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap()
    }

    /// A TLS handshake in memory between a client with `options` dialing
    /// `host` and `server`: the client's verdict.
    fn handshake(
        options: &TlsClientOptions,
        host: &str,
        server: Arc<ServerConfig>,
    ) -> Result<(), WsError> {
        let (config, name) = options.client_config(host)?;
        let mut client = ClientConnection::new(config, name).unwrap();
        let mut server = ServerConnection::new(server).unwrap();
        for _ in 0..20 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            if !wire.is_empty() {
                server.read_tls(&mut wire.as_slice()).unwrap();
                if server.process_new_packets().is_err() {
                    // The client's alert is what this test reads.
                }
            }
            let mut wire = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            if !wire.is_empty() {
                client.read_tls(&mut wire.as_slice()).unwrap();
                client.process_new_packets().map_err(|e| error(&e))?;
            }
            if !client.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not end");
    }

    /// `client_unsafe(trusted_chain)` as the engine has it: the chain is
    /// verified, the host name is not. A server reached by address, with a
    /// certificate for game.example signed by CA A.
    #[test]
    fn client_unsafe_with_a_chain_still_verifies_the_chain() {
        let (ca_a_pem, ca_a) = ca("CA A");
        let (ca_b_pem, _) = ca("CA B");
        let server = server_signed_by("game.example", &ca_a);
        let unsafe_with = |pem: &str| TlsClientOptions::ChainOnly {
            ca_pem: pem.as_bytes().to_vec(),
        };
        // client_unsafe(CA_B): the certificate is not signed by it.
        match handshake(&unsafe_with(&ca_b_pem), "127.0.0.1", server.clone()) {
            Err(WsError::Certificate {
                cause: CertificateCause::UnknownIssuer,
                ..
            }) => {}
            other => panic!("client_unsafe(CA_B) must fail: {other:?}"),
        }
        // client_unsafe(CA_A): opens, though the name does not match.
        handshake(&unsafe_with(&ca_a_pem), "127.0.0.1", server.clone()).unwrap();
        // client_unsafe(): anything goes.
        handshake(&TlsClientOptions::Unsafe, "127.0.0.1", server.clone()).unwrap();
        // client(CA_A): the host name is checked.
        let trusted = TlsClientOptions::Trusted {
            ca_pem: Some(ca_a_pem.as_bytes().to_vec()),
            common_name_override: String::new(),
        };
        match handshake(&trusted, "127.0.0.1", server.clone()) {
            Err(WsError::Certificate {
                cause: CertificateCause::WrongHost,
                ..
            }) => {}
            other => panic!("client(CA_A) must fail for the name: {other:?}"),
        }
        // An expired certificate signed by CA A is refused by client_unsafe(CA_A).
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["game.example".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        let cert = params.signed_by(&key, &ca_a).unwrap();
        let expired = server_config(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
        match handshake(&unsafe_with(&ca_a_pem), "127.0.0.1", expired) {
            Err(WsError::Certificate {
                cause: CertificateCause::Expired,
                ..
            }) => {}
            other => panic!("an expired certificate must fail: {other:?}"),
        }
        // A chain with no certificate is refused, never "anything goes".
        assert!(unsafe_with("").client_config("127.0.0.1").is_err());
    }

    #[test]
    fn check_refuses_what_client_config_refuses() {
        assert!(TlsClientOptions::Default.check("example.com").is_ok());
        assert!(TlsClientOptions::Default.check("bad host name!").is_err());
        let empty = TlsClientOptions::Trusted {
            ca_pem: Some(Vec::new()),
            common_name_override: String::new(),
        };
        assert!(empty.check("example.com").is_err());
        assert!(TlsClientOptions::ChainOnly { ca_pem: Vec::new() }
            .check("127.0.0.1")
            .is_err());
        let renamed = TlsClientOptions::Trusted {
            ca_pem: None,
            common_name_override: "game.example".into(),
        };
        assert!(renamed.check("10.0.0.1").is_ok());
        assert!(renamed.uses_default_roots() && TlsClientOptions::Default.uses_default_roots());
        assert!(!TlsClientOptions::Unsafe.uses_default_roots());
    }

    #[test]
    fn certificate_errors_name_the_cause() {
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(describe(&e).contains("client_unsafe"));
        let e = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(describe(&e).contains("expired"));
        let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert!(describe(&e).contains("common_name_override"));
    }
}
