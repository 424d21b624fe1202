//! What a server reads before TLS and the upgrade: the PROXY protocol
//! header a load balancer sends first ([`crate::proxy_protocol`]).
//! [`Prefaced`] is a [`Stream`] over the accepted socket that reads the
//! header, exactly and never a byte past it, then starts TLS (for `wss://`)
//! on the same socket, so the bytes after the header reach TLS or the HTTP
//! head untouched. Until then it reads as a stream with nothing to give
//! (`WouldBlock`); the handshake timeout bounds the wait. A connection
//! without a valid header ends with an error marked
//! [`Stream::refused_quietly`].

use crate::proxy_protocol::{self, Parsed, ProxyError, V2_MAX_LEN};
use crate::readiness::Socket;
use crate::tls::{ServerConfig, TlsStream};
use crate::transport::Stream;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

enum Stage {
    /// Reading the header (`buf`: what came of it so far).
    Header {
        sock: Socket,
        buf: Vec<u8>,
        tls: Option<Arc<ServerConfig>>,
    },
    /// Header read: the stream proper (plain, or TLS started after it).
    Ready(Box<dyn Stream>),
    /// The header was missing or invalid.
    Refused,
}

/// An accepted connection that starts with a PROXY protocol header.
pub struct Prefaced {
    stage: Stage,
    tcp: Option<SocketAddr>,
    source: Option<SocketAddr>,
    nodelay: Option<bool>,
}

impl Prefaced {
    /// Reads the header from `sock` (non-blocking), then serves TLS with
    /// `tls` when given.
    pub fn new(sock: TcpStream, tls: Option<Arc<ServerConfig>>) -> Prefaced {
        let tcp = sock.peer_addr().ok();
        Prefaced {
            stage: Stage::Header {
                sock: Socket::new(sock),
                buf: Vec::new(),
                tls,
            },
            tcp,
            source: None,
            nodelay: None,
        }
    }

    /// Reads as much of the header as has come; `Ok(true)` once the stream
    /// proper is ready.
    fn read_header(&mut self) -> io::Result<bool> {
        let Stage::Header { sock, buf, .. } = &mut self.stage else {
            return match self.stage {
                Stage::Ready(_) => Ok(true),
                _ => Err(refused(ProxyError::Missing)),
            };
        };
        let header = loop {
            let want = match proxy_protocol::parse(buf) {
                Ok(Parsed::Done(h)) => break h,
                Ok(Parsed::Incomplete(n)) => n.min(16 + V2_MAX_LEN),
                Err(e) => {
                    self.stage = Stage::Refused;
                    return Err(refused(e));
                }
            };
            let have = buf.len();
            buf.resize(have + want, 0);
            let got = sock.read(&mut buf[have..]);
            match got {
                Ok(0) => {
                    buf.truncate(have);
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                Ok(n) => buf.truncate(have + n),
                Err(e) => {
                    buf.truncate(have);
                    return Err(e);
                }
            }
        };
        let Stage::Header { sock, tls, .. } = std::mem::replace(&mut self.stage, Stage::Refused)
        else {
            return Ok(false);
        };
        self.source = header.source;
        let mut stream: Box<dyn Stream> = match tls {
            Some(config) => Box::new(
                TlsStream::server_on(config, sock).map_err(|e| io::Error::other(e.to_string()))?,
            ),
            None => Box::new(sock),
        };
        if let Some(on) = self.nodelay {
            stream.set_nodelay(on);
        }
        self.stage = Stage::Ready(stream);
        Ok(true)
    }
}

fn refused(e: ProxyError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl Read for Prefaced {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.read_header()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match &mut self.stage {
            Stage::Ready(s) => s.read(out),
            _ => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Prefaced {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.stage {
            Stage::Ready(s) => s.write(data),
            // Nothing is said before the header (a refusal is silent).
            Stage::Header { .. } => Err(io::ErrorKind::WouldBlock.into()),
            Stage::Refused => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stage {
            Stage::Ready(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

impl Stream for Prefaced {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    fn proxied_source(&self) -> Option<SocketAddr> {
        self.source
    }

    fn refused_quietly(&self) -> bool {
        matches!(self.stage, Stage::Refused)
    }

    fn set_nodelay(&mut self, enabled: bool) {
        self.nodelay = Some(enabled);
        match &mut self.stage {
            Stage::Ready(s) => s.set_nodelay(enabled),
            Stage::Header { sock, .. } => sock.set_nodelay(enabled),
            Stage::Refused => {}
        }
    }

    fn read_uninit<'a>(
        &mut self,
        buf: &'a mut [std::mem::MaybeUninit<u8>],
    ) -> io::Result<&'a mut [u8]> {
        if !self.read_header()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match &mut self.stage {
            Stage::Ready(s) => s.read_uninit(buf),
            _ => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn may_have_input(&self, now: Instant) -> bool {
        match &self.stage {
            Stage::Ready(s) => s.may_have_input(now),
            Stage::Header { sock, .. } => sock.may_have_input(now),
            Stage::Refused => true,
        }
    }

    fn tls_version(&self) -> Option<String> {
        match &self.stage {
            Stage::Ready(s) => s.tls_version(),
            _ => None,
        }
    }

    fn short_read_drains(&self) -> bool {
        match &self.stage {
            Stage::Ready(s) => s.short_read_drains(),
            _ => false,
        }
    }
}
