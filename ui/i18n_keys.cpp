// Every text of the GUI's own that Tr() translates: the program's half of the key list
// (the lab's half is net/phrase.hpp's catalogue). A translation file (assets/i18n/*.po)
// holds exactly these and the lab's phrases; the Translations tests check it, and that
// every Tr(lang, "literal") in ui/ and app/ is listed here.
#include "i18n.hpp"

#include <iterator>

namespace sockscope {
namespace {

constexpr const char* kUiTexts[] = {
    // the timeline: the session's moments, the past and replays (ui/timeline_panel.cpp, app/gui_app.cpp)
    "Now",
    "End",
    "A recording without a lesson (the playground, --run or --watch): the timeline walks through it, every panel "
    "shows each moment.",
    "moment %d of %d, %.1f s",
    "replay: moment %d of %d, %.1f s",
    "moment %d of %d, %.1f s (history full: nothing after %.0f s kept)",
    "Drag, or press Left and Shift+Left, to go back; Right, Shift+Right and End come back",
    "THE PAST: %.1f s ago (step %d). The lab lives on; End comes back to now.",
    "This is a recording: it makes no socket. Start sockscope without --replay to run calls.",
    // the notice of a lesson with gates where gates do not work (ui/lesson_panel.cpp)
    "  (gates)",
    "This lesson holds states with packet gates, which need root, sockscope-helper or a private network: "
    "here its gate steps will fail with EPERM.",
    "Packets are not captured here: the packet tab shows segments inferred from states.",
    "Restart in a private network",
    "Gates and capture work there, but outside clients (a student's nc) cannot reach the lab.",

    // --run and --watch in the GUI (ui/program_panel.cpp)
    "Without tracing, its sockets can still be watched: %s",
    "The program was killed by %s. Reset runs it again.",
    "The program exited with status %d. Reset runs it again.",
    "Running: each socket call it makes is on the ladder, its sockets in the table.",
    "Output (stdout and stderr)",
    "(the last %zu bytes of %llu)",
    "Its stdin is closed.",
    "Close stdin (Ctrl+D)",
    "a line for its stdin (Enter sends it)",
    "Watching ports %s",
    "Tracing %s, pid %d",
    "Tracing %s",
    "No tracing: the kernel's view of every socket on these ports, whoever holds it.",

    // layout
    "Lesson",
    "System calls",
    "Listen queues (from the kernel)",
    "Sockets (from the kernel)",

    // lesson panel
    "Step",
    "Reset",
    "Play",
    "Pause",
    "Steps by itself, %.0f s apart; stops at the end and when a step does not show what it claims",
    "Play speed: the pause between steps and the motions",
    "onto port",
    "(now %d)",
    "0 keeps the current port; another number resets onto that port",
    "No lesson loaded",
    "No lesson loaded. Pick one on the left.",
    "Not started (%d steps)",
    "Step %d of %d",
    "Next (step %d): %s",
    "End of the lesson. Reset to run it again.",
    "What the kernel must show:",
    "Seen: %s",
    "The system call returned what the lesson expects",
    "Waiting for the kernel...",
    "%d system calls returned what the lesson expects",
    "idle",
    "running",
    "checking",
    "passed",
    "failed",

    // ladder
    "No calls yet: press Step to make the first one.",
    "No calls yet.",
    "next:",
    "then:",
    "blocked in %s() for %d s",
    "exited: a zombie until waitpid()",
    "in the kernel",
    "queued",

    // queues
    "Listener",
    "Accept queue: %u of %d places taken",
    "limit from the kernel: backlog %u → %d places",
    "Full: the kernel drops new SYNs until accept() takes one.",
    "SYN queue (SYN-RECEIVED): %u",
    "(empty)",
    "... and %d more places",
    "Clients in SYN-SENT: %d. Their SYNs get no answer; they retry: %s",
    "No listening socket yet: listen() makes one, and its queues appear here.",
    "Accepted (accept() gave each a descriptor): %d",
    "+1: the kernel calls the accept queue full only when it holds more than the backlog (%u), so %d connections fit.",

    // socket table
    "role",
    "local",
    "remote",
    "state",
    "queue",
    "fd",
    "owner",
    "cookie",
    "timer",
    "no lesson loaded",
    "ready: %d steps, listener port %d",
    "making the calls",
    "Code",
    "(%d earlier rows not shown)",
    "%d lesson file(s) are not valid (hover)",
    "Packets",
    // a socket's role and an actor's kind (the trace keeps the English)
    "listener",
    "client",
    "server",
    " (inferred)",
    "Captured on the loopback interface (AF_PACKET): real seq, ack, flags and lengths.",
    "No packet capture.",
    "No segments yet.",
    "Connection %s (client) - %s (server): %d segments",
    // the packet panel's datagrams (ui/packet_model.cpp)
    "UDP datagram len=%u",
    "ICMP port unreachable, about a datagram of %u bytes",
    "ICMP destination unreachable (code %u), about a datagram of %u bytes",
    "Datagrams between %s (client) and %s (server): %d packets, no connection",
    "Datagrams are not captured here (sockscope-helper forwards TCP only): they are inferred from the sends and "
    "receives.",
    "Captured on the loopback interface (AF_PACKET): real ports, lengths and first bytes of each datagram, and the "
    "ICMP errors they caused.",
    "step",
    "who",
    "C code",
    "returned",
    "blocked",
    "The %s server's loop",
    "iterative",
    "fork",
    "thread",
    "epoll",
    " (blocked)",
    "No lesson loaded.",
    "WARNING: listening on every interface: other machines on the network can connect",
    "%zu bytes waiting:",
    "attempt %d: ",
    "making the earlier steps again. ",
    "Attempt %d. %s",
    "waiting for the kernel to show the expected state",
    "the kernel shows what the lesson says",
    "the kernel does not show what the lesson says: see the red marks",
    "%s %.1f s (#%u)",
    "%s %.1f s",
    "retransmit",
    "keepalive",
    "time-wait",
    "probe",
    "hold segments",

    // layout tabs
    "TCP state machine",
    "Kernel settings and counters",

    // the narrow layout's short tab labels (a large font on a small display)
    "Queues",
    "Sockets",
    "States",
    "Kernel",

    // packet gates
    "hold %s",
    "holding %s",
    "handshake ACK",
    "gate failed: %s",
    "Drop the SYNs that reach this listener: new clients stay in SYN-SENT and keep resending their SYN.",
    "Drop the handshake's last ACK: the listener keeps the connection in SYN-RECEIVED (the SYN queue) while the client is already ESTABLISHED.",
    "Drop FINs that reach this socket: the peer that closes stays in FIN-WAIT-1 and resends its FIN.",
    "Drop pure ACKs that reach this socket: after close() it stays in LAST-ACK (or CLOSING) until the gate is released.",

    // state machine
    "Each box: how many sockets the kernel has in that state now.",
    "Arrows: what arrives or is called / what is sent. Blue: taken in the last 2 s.",
    "UDP sockets are not drawn: UDP has no states, only bound (UNCONN) or connected.",
    "UDP has no listen() and no queue of connections: each datagram waits in its socket's receive queue (Recv-Q "
    "in the socket table) until recvfrom() takes it.",
    "The same CLOSED as at the top: the kernel has forgotten the connection.",
    // the exported pictures (ui/svg_export.cpp)
    "Arrows: what arrives or is called / what is sent. Blue: taken by these sockets; shaded boxes: states they "
    "went through.",
    "Not captured: these packets are inferred from the calls and the kernel's states (grey).",
    "timeout, RST",
    "SYN / SYN+ACK (simultaneous open)",
    "timeout 2MSL",

    // kernel settings
    "Settings (sysctl)",
    "setting",
    "value",
    "what it means",
    "cap on every listen() backlog",
    "cap on half-done handshakes when syncookies are off",
    "1: syncookies once the SYN queue is full; 2: always",
    "accept queue full: 0 drops the ACK, 1 sends RST",
    "SYN resends before connect() gives up",
    "SYN+ACK resends for a half-done handshake",
    "seconds a closed socket may stay in FIN-WAIT-2",
    "resends before a closed socket gives up (0: 8)",

    // kernel counters
    "Counters (TCP)",
    "For the whole network namespace: other programs' connections count too. Amber: moved since the lesson began. Hover a name for what it counts.",
    "The probe has not read the counters yet.",
    "counter",
    "total",
    "this lesson",
    "SYNs or handshake ACKs dropped because the accept queue was full",
    "segments a listener dropped, for any reason (ListenOverflows included)",
    "SYNs dropped because the SYN queue was full and syncookies were off",
    "SYN queue full: answered with a syncookie instead",
    "SYN+ACKs sent with a syncookie (no SYN-queue entry kept)",
    "ACKs carrying a valid syncookie: connections made from a cookie",
    "ACKs carrying a syncookie that did not check out",
    "connect() sent a SYN: CLOSED → SYN-SENT",
    "handshakes a listener completed (Linux counts the new socket)",
    "handshakes given up: SYN-SENT or SYN-RECEIVED back to CLOSED or LISTEN",
    "SYNs and SYN+ACKs sent again",
    "retransmission timers that ran out",
    "segments sent again, of every kind",
    "ESTABLISHED or CLOSE-WAIT connections ended by a reset",
    "RST segments sent",
    "close() with unread data: RST sent instead of FIN",
    "RST sent: close() with SO_LINGER 0, or data after close()",
    "close() with TCP_LINGER2 < 0: reset, no FIN-WAIT-2",
    "UDP datagrams delivered to a socket",
    "UDP datagrams sent",
    "UDP datagrams to a port no socket had: ICMP port unreachable sent back",
    "UDP datagrams dropped: the socket's receive buffer was full",
    "No sockets yet.",
    "no fd yet",
    "closed",
    "other process",
    "no fd (closed)",
    "The kernel finished this connection; no process has a descriptor for it until accept() returns one.",

    // status bar
    "probe running",
    "probe off",
    "probe error: %s",
    "snapshots: %llu",
    "port: %d",
    "port: -",

    // presenter mode: the View menu, the key help, the screenshot notice
    "View",
    "Scale",
    "High contrast (for projectors)",
    "Fullscreen (F11)",
    "Leave fullscreen (F11)",
    "Save a screenshot (F12)",
    "Space / → step",
    "P play / pause",
    "← / Shift+← back in time, End now",
    "Ctrl+= / Ctrl+- scale, Ctrl+0 reset",
    "F11 fullscreen",
    "F12 or Ctrl+S screenshot",
    "saved %s",
    "cannot save the screenshot: %s",
    "Export SVG (ladder, packets, states)",
    "Export PNG (ladder, packets, states)",
    "exported %s",
    "cannot export: %s",
    // the playground: its picker entry and command line; a question before a step
    "Playground",
    "server listen 2, client1 connect ... (Tab completes)",
    "Enter runs the line; Up/Down recall earlier ones; Tab completes",
    "Before step %d: %s",
    "Right. Step to see the kernel agree.",
    "Not quite: the answer is \"%s\". Step to see why.",
    "What if...? Try calls from here",
    "Type your own calls on this lab: its sockets and actors stay, the steps not done yet are dropped, and "
    "'save NAME' keeps it all as a lesson",
};

} // namespace

std::vector<std::string_view> UiTexts()
{
    return std::vector<std::string_view>(std::begin(kUiTexts), std::end(kUiTexts));
}

} // namespace sockscope
