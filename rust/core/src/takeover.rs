//! Finding the OS socket behind a TCP connection the engine accepted
//! (`TCPServer.take_connection()`), so the server side can read and write it
//! directly instead of through the engine's stream object: one `recv`/`send`
//! per poll instead of several engine calls, allocations and `poll()`s.
//!
//! Candidates are descriptors whose remote address is the connection's
//! (tried near the last one found first, then all). The engine does not say
//! which descriptor is its own, and the remote address alone may be shared
//! (one client address connected to two of our listeners), so each
//! candidate is proven: the caller switches TCP_NODELAY on the engine's
//! stream off and on, and only the engine's socket follows. The winner is
//! duplicated; the engine's descriptor is left alone (closing it does not
//! end the connection, as the engine only `close`s, never `shutdown`s).
//! Unix only; elsewhere [`take_over`] finds nothing and the caller keeps the
//! engine's stream.

use std::net::{SocketAddr, TcpStream};

/// The accepted TCP connection from `peer`, as our own non-blocking socket
/// with TCP_NODELAY on, or `None` when it cannot be found.
/// `set_nodelay` must set TCP_NODELAY on the engine's stream for it.
pub fn take_over(peer: SocketAddr, set_nodelay: &mut dyn FnMut(bool)) -> Option<TcpStream> {
    imp::take_over(peer, set_nodelay)
}

#[cfg(unix)]
mod imp {
    use std::mem::{size_of, zeroed};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The last descriptor found: the kernel hands out the lowest free
    /// number, so accepts in a burst, and an accept after the engine closed
    /// its copy of the last one, land close by.
    static LAST: AtomicI32 = AtomicI32::new(-1);

    fn peer_of(fd: RawFd) -> Option<SocketAddr> {
        // SAFETY: `storage` is large enough for any socket address and `len`
        // says so; the call only writes within it. A bad fd just fails.
        unsafe {
            let mut storage: libc::sockaddr_storage = zeroed();
            let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            if libc::getpeername(fd, &mut storage as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
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

    /// An integer socket option, or `None` when the fd has none.
    fn option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> Option<libc::c_int> {
        let mut value: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: writes one c_int into `value`; a bad fd just fails.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                level,
                name,
                &mut value as *mut _ as *mut libc::c_void,
                &mut len,
            )
        };
        (rc == 0).then_some(value)
    }

    fn nodelay(fd: RawFd) -> Option<bool> {
        option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY).map(|v| v != 0)
    }

    fn is_candidate(fd: RawFd, peer: SocketAddr) -> bool {
        peer_of(fd).is_some_and(|a| {
            a.port() == peer.port() && a.ip().to_canonical() == peer.ip().to_canonical()
        }) && option(fd, libc::SOL_SOCKET, libc::SO_TYPE) == Some(libc::SOCK_STREAM)
    }

    /// Whether `fd` is the engine's socket: it follows TCP_NODELAY set
    /// through the engine, off and then on (which is how it is left).
    fn follows(fd: RawFd, set_nodelay: &mut dyn FnMut(bool)) -> bool {
        set_nodelay(false);
        let off = nodelay(fd) == Some(false);
        set_nodelay(true);
        off && nodelay(fd) == Some(true)
    }

    fn near(last: RawFd) -> impl Iterator<Item = RawFd> {
        (0..64)
            .flat_map(move |d| [last + 1 + d, last - d])
            .filter(|fd| *fd >= 0)
    }

    fn all() -> Vec<RawFd> {
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

    pub fn take_over(peer: SocketAddr, set_nodelay: &mut dyn FnMut(bool)) -> Option<TcpStream> {
        let last = LAST.load(Ordering::Relaxed);
        let mut proven = |fd: &RawFd| is_candidate(*fd, peer) && follows(*fd, set_nodelay);
        let fd = match near(last).find(&mut proven) {
            Some(fd) => fd,
            None => all().into_iter().find(&mut proven)?,
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

    pub fn take_over(_peer: SocketAddr, _set_nodelay: &mut dyn FnMut(bool)) -> Option<TcpStream> {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::os::fd::{FromRawFd, OwnedFd};

    /// How the engine's stream is driven in these tests: the accepted
    /// socket stands in for the engine's.
    fn engine(sock: &TcpStream) -> impl FnMut(bool) + '_ {
        move |on| sock.set_nodelay(on).unwrap()
    }

    #[test]
    fn finds_the_accepted_socket_and_keeps_it_after_the_original_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, from) = listener.accept().unwrap();
        let mut ours = take_over(from, &mut engine(&accepted)).expect("found");
        assert_eq!(ours.peer_addr().unwrap(), from);
        assert!(ours.nodelay().unwrap());
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
    fn found_among_many_and_far_from_the_last_one() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut keep = Vec::new();
        for _ in 0..200 {
            let c = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            keep.push((c, listener.accept().unwrap().0));
        }
        // The first accepted socket is far below the newest descriptors.
        let (first_client, first) = &keep[0];
        let ours = take_over(first_client.local_addr().unwrap(), &mut engine(first)).unwrap();
        assert_eq!(ours.local_addr().unwrap(), first.local_addr().unwrap());
        let (last_client, last) = &keep[199];
        let ours = take_over(last_client.local_addr().unwrap(), &mut engine(last)).unwrap();
        assert_eq!(ours.peer_addr().unwrap(), last_client.local_addr().unwrap());
    }

    #[test]
    fn unknown_connection_is_not_found() {
        let mut never = |_| {};
        assert!(take_over("127.0.0.1:1".parse().unwrap(), &mut never).is_none());
    }

    /// A client socket bound to `local` (SO_REUSEADDR, so several can share
    /// it) and connected to `to`.
    fn connect_from(local: SocketAddr, to: SocketAddr) -> TcpStream {
        let (SocketAddr::V4(l), SocketAddr::V4(t)) = (local, to) else {
            panic!("IPv4 only")
        };
        let sa = |a: std::net::SocketAddrV4| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: a.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*a.ip()).to_be(),
            },
            #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
            sin_len: 0,
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: test-only raw socket calls on a descriptor we own.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let owned = OwnedFd::from_raw_fd(fd);
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const libc::c_int).cast(),
                4,
            );
            let l = sa(l);
            assert_eq!(
                libc::bind(fd, (&l as *const libc::sockaddr_in).cast(), len),
                0
            );
            let t = sa(t);
            assert_eq!(
                libc::connect(fd, (&t as *const libc::sockaddr_in).cast(), len),
                0
            );
            TcpStream::from(owned)
        }
    }

    #[test]
    fn one_remote_address_on_two_listeners_is_told_apart() {
        // One client address connected to two of our listeners: the remote
        // address alone cannot tell the accepted sockets apart.
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let local = probe.local_addr().unwrap();
        drop(probe);
        let _ca = connect_from(local, a.local_addr().unwrap());
        let _cb = connect_from(local, b.local_addr().unwrap());
        let (sa, from_a) = a.accept().unwrap();
        let (sb, from_b) = b.accept().unwrap();
        assert_eq!(from_a, from_b);
        for (engines, listener) in [(&sa, &a), (&sb, &b), (&sa, &a)] {
            let ours = take_over(from_a, &mut engine(engines)).expect("found");
            assert_eq!(ours.local_addr().unwrap(), listener.local_addr().unwrap());
        }
    }
}
