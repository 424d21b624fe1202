//! A plain HTTP request's way through a server's opening (see
//! [`crate::http_plain`]): the health check and, unless the game answers
//! them, other paths are answered at once; with `hold_http` the request
//! waits in [`Opening::Http`] for the game's answer (or 504 at the
//! handshake timeout); the answer is written, then the connection is done.

use crate::error::WsError;
use crate::http_plain::{response, HttpRequest};
use crate::opening::{handshake_io_error, Opening, Step, Wants};
use crate::transport::Io;

/// Server: what to do with a plain request just read: the health check
/// and (unless the game answers them) every other path are answered at
/// once; with `hold_http` the request waits for the game.
pub(crate) fn serve(io: Io, request: HttpRequest, wants: &Wants) -> Result<Step, WsError> {
    let get = request.method == "GET" || request.is_head();
    let answer = if !wants.health_path.is_empty() && request.path_only() == wants.health_path && get
    {
        let (status, body): (u16, &[u8]) = if wants.draining {
            (503, b"draining\n")
        } else {
            (200, b"ok\n")
        };
        Some(response(status, &[], body, request.is_head()))
    } else if wants.hold_http {
        None
    } else {
        Some(response(404, &[], b"not found\n", request.is_head()))
    };
    advance(Opening::Http {
        io,
        request: Box::new(request),
        answer,
    })
}

/// Server: a plain request held or answered: writes the answer, then the
/// connection is done.
pub(crate) fn advance(opening: Opening) -> Result<Step, WsError> {
    let mut io = match opening {
        Opening::Http {
            mut io,
            answer: Some(answer),
            ..
        } => {
            io.queue_bytes(&answer);
            io
        }
        Opening::Answering { io } => io,
        held => return Ok(Step::Waiting(held)),
    };
    io.flush_out()
        .map_err(|e| handshake_io_error(e, "answering a plain HTTP request"))?;
    if io.buffered() > 0 {
        return Ok(Step::Waiting(Opening::Answering { io }));
    }
    Ok(Step::Done)
}

impl Opening {
    /// The plain HTTP request a server holds for the game's answer.
    pub fn http_request(&self) -> Option<&HttpRequest> {
        match self {
            Opening::Http {
                request,
                answer: None,
                ..
            } => Some(request),
            _ => None,
        }
    }

    /// Answers the held plain request (written at the next
    /// [`Opening::advance`]); `false` when none waits.
    pub fn answer_http(&mut self, status: u16, headers: &[String], body: &[u8]) -> bool {
        match self {
            Opening::Http {
                request,
                answer: answer @ None,
                ..
            } => {
                *answer = Some(response(status, headers, body, request.is_head()));
                true
            }
            _ => false,
        }
    }

    /// The handshake timeout passed: a held plain request gets 504, an
    /// answered one its answer (best effort, never blocking).
    pub fn answer_timeout(&mut self) {
        // No-op when the game already answered: that answer goes out.
        self.answer_http(504, &[], b"no answer in time\n");
        if let Opening::Http {
            io,
            answer: Some(answer),
            ..
        } = self
        {
            io.queue_bytes(answer);
            let _ = io.flush_out();
        }
    }
}
