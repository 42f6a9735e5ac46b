//! `mcpwire normalize [--from openai|anthropic] [--settled] FILE|-`: a vendor response (JSON)
//! or raw SSE stream in, one event per line (JSON Lines) out, as soon as its input has arrived.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use mcpwire_normalize::{ByteNormalizer, InputFormat, Sniffer, normalize_whole};
use mcpwire_schema::event::{Event, Vendor};

const CHUNK: usize = 64 * 1024;

/// Runs the command; events before a fault are written, then one line on stderr and exit 1.
/// An output error is returned (a closed pipe ends quietly, see `main`).
pub(crate) fn run(file: &str, from: Option<Vendor>, settled: bool) -> io::Result<ExitCode> {
    let mut input: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(f),
            Err(err) => return Ok(fail(&format!("cannot read {file}: {err}"))),
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match normalize(&mut *input, from, settled, &mut out) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Failure::Output(err)) => Err(err),
        Err(Failure::Input(message)) => {
            out.flush()?;
            Ok(fail(&message))
        }
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(
        io::stderr(),
        "mcpwire normalize: {}",
        crate::term::line(message)
    );
    ExitCode::FAILURE
}

/// A whole document's error, without the "event 0:" a stream's errors carry.
fn whole_error(err: mcpwire_normalize::Error) -> String {
    match err {
        mcpwire_normalize::Error::Decode { error, .. } => format!("response: {error}"),
        mcpwire_normalize::Error::Json { message, .. } => format!("not valid JSON: {message}"),
        other => other.to_string(),
    }
}

enum Failure {
    Input(String),
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Failure::Output(err)
    }
}

fn write_events(
    events: &mut Vec<Event<'_>>,
    settled: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    for event in events.drain(..) {
        if settled && event.is_stream_only() {
            continue;
        }
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn normalize(
    input: &mut dyn Read,
    from: Option<Vendor>,
    settled: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut buf = vec![0u8; CHUNK];
    // Read until the first bytes say JSON or SSE (linear, leading whitespace not kept).
    let mut sniffer = Sniffer::new();
    let format = loop {
        let n = read(input, &mut buf)?;
        if n == 0 {
            break sniffer.finish();
        }
        if let Some(format) = sniffer.push(&buf[..n]) {
            break format;
        }
    };
    let mut head = sniffer.into_head();
    if format == InputFormat::Empty {
        return Err(Failure::Input("empty input".to_owned()));
    }
    if format == InputFormat::Json {
        // A whole JSON document starts with `{` or `[`; anything else fails now rather than
        // after reading it all. The document itself is bounded (`MAX_INPUT`).
        let first = head
            .iter()
            .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
        if let Some(&b) = first.filter(|b| !matches!(b, b'{' | b'[')) {
            return Err(Failure::Input(format!(
                "neither JSON nor SSE (first byte 0x{b:02x})"
            )));
        }
        crate::read_bounded(input, &mut head)
            .map_err(|e| Failure::Input(format!("cannot read: {e}")))?;
        let mut events =
            normalize_whole(&head, from).map_err(|e| Failure::Input(whole_error(e)))?;
        write_events(&mut events, settled, out)?;
        out.flush()?;
        return Ok(());
    }
    let mut normalizer = ByteNormalizer::new(from);
    let mut events = Vec::new();
    let mut chunk: &[u8] = &head;
    let mut owned;
    loop {
        let result = normalizer.feed(chunk, &mut events);
        write_events(&mut events, settled, out)?;
        out.flush()?;
        result.map_err(|e| Failure::Input(e.to_string()))?;
        let n = read(input, &mut buf)?;
        if n == 0 {
            break;
        }
        owned = &buf[..n];
        chunk = owned;
    }
    let result = normalizer.finish(&mut events);
    write_events(&mut events, settled, out)?;
    out.flush()?;
    result.map_err(|e| Failure::Input(e.to_string()))
}

fn read(input: &mut dyn Read, buf: &mut [u8]) -> Result<usize, Failure> {
    loop {
        match input.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure::Input(format!("cannot read: {e}"))),
        }
    }
}
