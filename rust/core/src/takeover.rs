//! Finding the OS socket behind a TCP connection the engine accepted
//! (`TCPServer.take_connection()`), so the server side can read and write it
//! directly instead of through the engine's stream object: one `recv`/`send`
//! per poll instead of several engine calls, allocations and `poll()`s.
//!
//! The socket is found by its addresses (local port and remote address are
//! unique to one TCP connection) and duplicated; the engine's descriptor is
//! left alone (closing it does not end the connection, as the engine only
//! `close`s, never `shutdown`s). Unix only; elsewhere [`take_over`] finds
//! nothing and the caller keeps the engine's stream.

use std::net::{SocketAddr, TcpStream};

/// The accepted TCP connection from `peer` on local port `local_port`, as
/// our own non-blocking socket, or `None` when it cannot be found.
pub fn take_over(local_port: u16, peer: SocketAddr) -> Option<TcpStream> {
    imp::take_over(local_port, peer)
}

#[cfg(unix)]
mod imp {
    use std::mem::{size_of, zeroed};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The last descriptor found: accepts in a burst get consecutive numbers.
    static LAST: AtomicI32 = AtomicI32::new(-1);

    type AddrFn =
        unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;

    fn address(fd: RawFd, which: AddrFn) -> Option<SocketAddr> {
        // SAFETY: `storage` is large enough for any socket address and `len`
        // says so; the call only writes within it. A bad fd just fails.
        unsafe {
            let mut storage: libc::sockaddr_storage = zeroed();
            let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            if which(fd, &mut storage as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
                return None;
            }
            match storage.ss_family as libc::c_int {
                libc::AF_INET => {
                    let a = &*(&storage as *const _ as *const libc::sockaddr_in);
                    let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                    Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(a.sin_port)))
                }
                libc::AF_INET6 => {
                    let a = &*(&storage as *const _ as *const libc::sockaddr_in6);
                    let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                    Some(SocketAddr::new(IpAddr::V6(ip), u16::from_be(a.sin6_port)))
                }
                _ => None,
            }
        }
    }

    fn is_stream_socket(fd: RawFd) -> bool {
        let mut kind: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: writes one c_int into `kind`; a bad fd just fails.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                &mut kind as *mut _ as *mut libc::c_void,
                &mut len,
            )
        };
        rc == 0 && kind == libc::SOCK_STREAM
    }

    /// `local_port` 0 means unknown (the engine does not report it for
    /// accepted connections): then only the remote address is compared.
    fn matches(fd: RawFd, local_port: u16, peer: SocketAddr) -> bool {
        let remote_ok = address(fd, libc::getpeername).is_some_and(|a| {
            a.port() == peer.port() && a.ip().to_canonical() == peer.ip().to_canonical()
        });
        remote_ok
            && is_stream_socket(fd)
            && (local_port == 0
                || address(fd, libc::getsockname).is_some_and(|a| a.port() == local_port))
    }

    fn candidates() -> Vec<RawFd> {
        #[cfg(target_os = "linux")]
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let mut fds: Vec<RawFd> = dir
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect();
            fds.sort_unstable_by(|a, b| b.cmp(a));
            return fds;
        }
        // SAFETY: getdtablesize has no preconditions.
        let max = unsafe { libc::getdtablesize() }.clamp(0, 1 << 16);
        (0..max).rev().collect()
    }

    pub fn take_over(local_port: u16, peer: SocketAddr) -> Option<TcpStream> {
        let fd = if local_port != 0 {
            // Local port and remote address name exactly one connection.
            let last = LAST.load(Ordering::Relaxed);
            (last + 1..last + 65)
                .filter(|fd| *fd >= 0)
                .find(|fd| matches(*fd, local_port, peer))
                .or_else(|| {
                    candidates()
                        .into_iter()
                        .find(|fd| matches(*fd, local_port, peer))
                })?
        } else {
            // Only the remote address is known: take the socket only if it is
            // the one connection from there.
            let mut found = candidates().into_iter().filter(|fd| matches(*fd, 0, peer));
            let fd = found.next()?;
            if found.next().is_some() {
                return None;
            }
            fd
        };
        LAST.store(fd, Ordering::Relaxed);
        // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor that we own.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return None;
        }
        // SAFETY: `dup` is a fresh descriptor owned by nobody else.
        let stream = TcpStream::from(unsafe { OwnedFd::from_raw_fd(dup) });
        stream.set_nonblocking(true).ok()?;
        let _ = stream.set_nodelay(true);
        Some(stream)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::net::{SocketAddr, TcpStream};

    pub fn take_over(_local_port: u16, _peer: SocketAddr) -> Option<TcpStream> {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn finds_the_accepted_socket_and_keeps_it_after_the_original_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, from) = listener.accept().unwrap();
        let mut ours = take_over(port, from).expect("found");
        assert_eq!(ours.peer_addr().unwrap(), from);
        drop(accepted); // The engine closing its descriptor...
        client.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match ours.read(&mut buf[got..]) {
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&buf, b"ping"); // ...leaves the connection working.
        ours.write_all(b"pong").unwrap();
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    }

    #[test]
    fn found_by_remote_address_alone_when_the_local_port_is_unknown() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_accepted, from) = listener.accept().unwrap();
        let ours = take_over(0, from).expect("found");
        assert_eq!(ours.peer_addr().unwrap(), client.local_addr().unwrap());
    }

    #[test]
    fn unknown_connection_is_not_found() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(take_over(port, "127.0.0.1:1".parse().unwrap()).is_none());
    }
}
