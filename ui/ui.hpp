// The Dear ImGui panels. Each panel is a function of the model it draws (the World, a
// view of the lesson player, the time) plus a little UI-only state; clicks come back as
// UiCommand objects, which the app executes. Nothing here makes a system call on a
// socket. Call everything on the thread that owns the ImGui context and the World.
#pragma once

#include "lesson.hpp"
#include "theme.hpp"
#include "player.hpp"
#include "world.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ImFont;

namespace sockscope {

// What a click asks for. The app executes these after the frame is drawn.
struct UiCommand {
    enum Kind {
        StepForward, // LessonPlayer::StepForward()
        Reset,       // LessonPlayer::Reset(Port); Port 0 keeps the current port
        LoadLesson,  // FindLesson(Lesson) then LessonPlayer::Load(...)
        Submit,      // Lab::Submit(Request): one system call outside the lesson
        SetLanguage, // UiState::Language = Language
        SetScale,    // rebuild the fonts and the style at Scale (one of kScaleSteps)
        SetTheme,    // UiState::Theme = Theme, style rebuilt
        ToggleFullscreen, // the primary monitor and back to the saved window
        SaveScreenshot,   // the window as ScreenshotPath(now); UiState::Notice says where
        ExportSvg,        // the ladder, packets and state machine as SVG in ExportDirPath(now); Notice says where
        ExportPng,        // the same three as PNG, each diagram drawn alone (DrawDiagramAlone)
        RestartPrivateNetwork, // exec sockscope again, as it was started, with --private-network
        OpenPlayground,   // an empty playground (Session::Start)
        RunLine,          // Session::Run(Line): one command of the playground's command line
        PlaygroundFromHere, // Session::ContinueFrom: the playground on the lesson's lab, from its step
        WriteStdin,       // --run: Line to the traced program's stdin
        CloseStdin,       // --run: the traced program's stdin ends (Ctrl+D)
        ShowMoment,       // the timeline: show Moment (-1: the present)
    };
    Kind What = StepForward;
    int Port = 0;
    std::string Lesson;
    CallRequest Request;
    Lang Language = Lang::En;
    float Scale = 1.0f;
    ThemeKind Theme = ThemeKind::Normal;
    std::string Line;
    long Moment = -1;
};

// The playground's command line (playground_panel.cpp). The app runs each line the panel
// hands it (RunLine) and says how it went: Ran() on success, Error on a refusal.
struct CommandLineState {
    bool On = false;                    // the playground is open: the line is shown
    char Input[512] = {};
    std::vector<std::string> History;   // lines run, oldest first
    int HistoryPos = -1;                // Up/Down's place in History; -1: the line being typed
    std::string Error;                  // why the last line was refused (one line)
    std::vector<std::string> Offers;    // what Tab found when it was more than one
    bool Focus = true;                  // take the keyboard focus in the next frame
    void Ran(const std::string& line);  // the line ran: history, an empty input
};

// The tabs of the lower area. Calls and Queues are tabs only in the narrow layout
// (elsewhere the ladder and the queues have panels of their own).
enum class LowerTab : std::uint8_t { Sockets, StateMachine, Kernel, Code, Packets, Calls, Queues };
// "sockets", "state", "kernel", "code", "packets", "calls", "queues" (what $SOCKSCOPE_TAB
// may say); nullopt for anything else.
std::optional<LowerTab> LowerTabFromName(std::string_view name);

// The queue panel's memory of the previous frame (queue_model.hpp): where it drew each
// connection's box, the slides under way between its rows (SYN queue, accept queue,
// accepted), and the fill of each aggregate bar. Bounded: only boxes drawn last frame.
struct QueueBoxSeen {
    std::uint64_t Listener = 0;         // the listener's cookie
    Endpoint Client;                    // the connection's client end (with the listener: its four-tuple)
    std::uint8_t Row = 0;               // a QueueRow
    float X = 0, Y = 0;                 // top-left of its box, from the listener's origin
    float FromX = 0, FromY = 0;         // where its slide began
    double Start = -1;                  // when its slide began (UiFrame::Now); < 0: none
};
struct QueueBarSeen {
    std::uint64_t Listener = 0;
    std::uint8_t Row = 0;
    float From = 0, To = 0;             // connections counted before and now
    double Start = -1;
};
struct QueueMotion {
    std::vector<QueueBoxSeen> Boxes;
    std::vector<QueueBarSeen> Bars;
};

// How the main layout arranges the panels (layout_plan.hpp): Wide puts the ladder and
// the queues side by side above the tabs; Narrow (a large font on a small display) gives
// the lesson the top and every other panel a tab of the whole width.
enum class LayoutMode : std::uint8_t { Wide, Narrow };

// Play: the lesson steps itself, a pause to read between steps. Speed divides the pause
// and the motions (kEaseSeconds, kFlightSeconds) when above 1.
inline constexpr float kPlaySpeeds[] = {0.5f, 1.0f, 2.0f, 4.0f};
inline constexpr double kPlayPauseSeconds = 6.0; // after a step, before the next, at 1x
struct AutoPlay {
    bool On = false;
    float Speed = 1.0f; // one of kPlaySpeeds
    double NextAt = 0;  // when the next step starts (UiFrame::Now's clock); 0: not yet known
};

// The program's panel's input line and what its output view last showed (program_panel.cpp).
struct ProgramInputState {
    char Input[512] = {};
    std::uint64_t OutputSeen = ~0ull; // ProgramView::OutputVersion last drawn
    bool Focus = true;
};

// UI-only state that outlives a frame. Owned by the app; panels may edit the fields
// that are purely about the UI (the port being typed), everything else goes through
// commands.
struct UiState {
    Lang Language = Lang::En;
    bool CjkAvailable = false;          // a font with Chinese glyphs was loaded
    std::string FontMessage;            // why Chinese is not offered, when it is not
    std::string Message;                // the app's latest error ("cannot load lesson ...")
    std::vector<std::string> LessonNames; // ListLessons(), read once by the app
    std::vector<std::string> InvalidLessons; // "file:line:col: what" of each lesson file that is not valid
    // What the scrolling panels last showed, to follow what is new (and only then):
    std::size_t LadderCellsSeen = 0;     // the ladder's cells
    std::size_t SegmentsSeen = 0;        // the packet ladder's segments
    std::pair<const Lesson*, int> CodeStepSeen{nullptr, -2}; // the code view's lesson and step
    QueueMotion Queues;                 // the queue panel's boxes and bars, to slide what moved
    AutoPlay Play;                      // the lesson stepping itself (PlayTick)
    int ResetPort = 0;                  // the port field next to Reset (0: keep the port)
    float QueuesNeed = 0;               // the queue panel's height for its first listener, last frame
    float QueuesScrolled = 0;           // the scroll the queue panel set itself to keep the SYN queue in view
    ImFont* TitleFont = nullptr;        // may be null: the default font is used
    ImFont* MonoFont = nullptr;
    LowerTab Tab = LowerTab::Sockets;   // the lower area's tab; the layout keeps it up to date
    LayoutMode Layout = LayoutMode::Wide; // chosen by the layout each frame from the display and font size
    bool SelectTab = true;              // make Tab the selected tab (set it after changing Tab);
                                        // the layout clears it once that tab shows
    float Scale = 1.0f;                 // the presenter's scale (kScaleSteps), applied by the app
    ThemeKind Theme = ThemeKind::Normal;
    bool Fullscreen = false;
    CommandLineState CommandLine;       // the playground's
    ProgramInputState ProgramInput;     // --run's stdin line
    // The answer picked to the question before the next step (lesson_panel.cpp).
    struct AskPicked {
        const Lesson* Of = nullptr;
        int Step = -1;
        int Choice = -1;                // -1: none yet
    } Asked;
    std::string Notice;                 // "saved <path>": shown in the status bar until NoticeUntil
    double NoticeUntil = 0;             // UiFrame::Now's clock
    // Privileges, found once by the app: whether gates work here (root, sockscope-helper
    // or a private network) and which lessons use gates. A lesson that needs what is
    // missing (gates, or capture: UiFrame::Capturing) says so above its narration, with a
    // button to restart in a private network; the picker marks the lessons with gates.
    bool ViewingPast = false;           // the timeline shows an earlier moment (the app sets it each frame)
    bool Replay = false;                // --replay: a recording, no lab (the app sets it)
    bool GatesWork = true;
    bool PrivateNetwork = false;        // already in one (--private-network)
    std::vector<std::string> GateLessons;
};

// The lesson player as the panels see it: a copy of its accessors, so panels (and their
// tests) need no Lab.
struct LessonView {
    const Lesson* Data = nullptr;       // null when no lesson is loaded
    int StepIndex = -1;                 // current or last step, -1 before step 1
    int StepsDone = 0;
    StepStatus Status = StepStatus::Idle;
    bool Busy = false;
    bool AtEnd = false;
    int CallIndex = -1;                 // the call of the step the player waits for
    int Port = 0;
    std::string StatusLine;
    std::vector<CheckResult> Results;
    int Attempt = 1;                    // > 1: earlier attempts at this step lost a race
    bool Replaying = false;             // steps before it are being made again
    bool BindAll = false;               // servers listen on every interface (--bind-all)
    std::map<std::pair<int, int>, std::uint64_t> CallIds; // (step, call) -> the lab's call id
};
LessonView MakeLessonView(const LessonPlayer& player);
struct PlayerMoment;
struct UiFrame;
// The same at a recorded moment (net/recording.hpp): the past, or a replay.
LessonView LessonViewAt(const PlayerMoment& moment, const Lesson* lesson);

// The timeline under the lesson's controls (timeline_panel.cpp): the moments the session
// has had (each time what is shown changed), and which one the panels show.
struct TimelineView {
    std::size_t Moments = 0;
    std::optional<std::size_t> Viewing; // nullopt: the present (live)
    double ViewT = 0;                   // the lab clock at Viewing
    double LiveT = 0;                   // now (a replay: its last moment)
    double FirstT = 0;                  // the first moment's
    int ViewStep = -1;                  // the lesson's step shown at Viewing (from 0)
    bool Replay = false;                // --replay: no live lab; Viewing is always set
    std::vector<std::size_t> StepEnds;  // the moments at which a step ended, oldest first
    std::vector<int> StepEndSteps;      // ... and which step (from 0) each ended
    int HereStep = -1;                  // the step shown now (Viewing's, or the newest moment's)
    bool Full = false;                  // the history's memory ran out: later moments are not kept
    double FullT = 0;                   // the lab clock when it did
};
// ←/→ one moment, Shift+←/→ one step, End the present; dragging the slider. Asks for
// UiCommand::ShowMoment. Draws nothing when there is no moment yet.
void DrawTimeline(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands);
float TimelineHeight(const UiFrame& frame); // what DrawTimeline takes (0: nothing)

// A program traced or ports watched instead of a lesson (`--run`, `--watch` in the GUI):
// what the lesson panel's place shows. The app fills it each frame.
struct ProgramView {
    bool Watch = false;                 // --watch: the ports only, no program
    std::string Command;                // "./server 8080"
    int Pid = 0;
    std::string Ports;                  // --watch: "8080, 9090"
    bool Running = false;
    bool Ended = false;                 // the program (its first process) has ended:
    int ExitStatus = 0;                 //   with this status,
    int ExitSignal = 0;                 //   or killed by this signal (then not 0)
    std::string SignalName;             //   "SIGKILL"
    std::string Error;                  // why it could not be traced (one line, English: the OS's words)
    std::string Offer;                  // tracing not permitted: "sockscope --watch 8080"
    std::string Output;                 // the last bytes of its stdout and stderr
    std::uint64_t OutputTotal = 0;      // every byte it wrote
    std::uint64_t OutputVersion = 0;    // grows with Output
    bool StdinOpen = false;
};

// Everything one frame draws.
struct UiFrame {
    const World& Model;
    LessonView Lesson;
    double Now = 0;                     // the lab's clock (MonotonicSeconds), for elapsed times
    bool ProbeRunning = false;
    bool Capturing = false;             // segments captured (else inferred)
    Phrase CaptureError;                // why not
    bool Animate = true;                // false: draw every motion finished (screenshots)
    const ProgramView* Program = nullptr; // --run / --watch: shown where the lesson would be
    const TimelineView* Timeline = nullptr; // the session's moments; null: no timeline
    bool Past() const { return Timeline && Timeline->Viewing.has_value(); }
};

// The panels. Each draws into the current ImGui window.
void DrawLessonPanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands);
// --run / --watch: what runs, how it ended, its output and a line for its stdin.
void DrawProgramPanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands);
void DrawLadderPanel(const UiFrame& frame, UiState& state);
// The queue panel and the socket table carry the packet gates' toggles.
void DrawQueuePanel(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands);
void DrawSocketTable(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands);
void DrawStatePanel(const UiFrame& frame, const UiState& state);
void DrawKernelPanel(const UiFrame& frame, const UiState& state);
// The C code of the lesson so far, the line being executed highlighted, each line's real
// result beside it; and the server model's loop with each lane at its line.
void DrawCodePanel(const UiFrame& frame, UiState& state);
// The playground's command line: an input (Enter runs it, Up/Down recall, Tab completes),
// the refusal of the last line or what Tab offers, one line each. CommandLineHeight is
// the height it takes (0 when the playground is not open).
void DrawCommandLine(const UiFrame& frame, UiState& state, std::vector<UiCommand>& commands);
float CommandLineHeight(const UiState& state);
// The packet ladder of the newest connection: captured (or inferred) segments. The
// newest arrow flies across in kFlightSeconds.
inline constexpr double kFlightSeconds = 0.3;
// A socket's new state eases in (the socket table), and a connection's box slides from
// one queue to the next (the queue panel), over this long.
inline constexpr double kEaseSeconds = 0.3;
// How long a motion takes now: kEaseSeconds, or less while playing faster than 1x.
double EaseSeconds(const UiState& state);
double FlightSeconds(const UiState& state);

// Once a frame: true when Play is on and the next step is due at `now`. The next step
// is due kPlayPauseSeconds / Speed after the current one ended (at once when Play was
// just pressed). Play stops by itself at the end of the lesson and when a step did not
// show what it claims (the class should look at that), and with no lesson.
bool PlayTick(AutoPlay& play, const LessonView& lesson, double now);
// Play pressed: on, the next step at once (or off).
void TogglePlay(AutoPlay& play, double now);

// Whether something on screen is still moving at `now` (the frame loop keeps drawing).
bool Animating(const World& world, LowerTab tab, double now);
// Whether a box still slides, or a bar still fills, in the queue panel at `now`.
bool QueuesMoving(const UiState& state, double now);
void DrawPacketPanel(const UiFrame& frame, UiState& state);
// The status bar carries the View menu (scale, theme, fullscreen, screenshot) and the
// key help.
void DrawStatusBar(const UiFrame& frame, const UiState& state, std::vector<UiCommand>& commands);

// One diagram alone in a window filling the display, for Export PNG: `which` is an index
// into ExportNames() (svg_export.hpp): 0 the ladder of calls, 1 the packet ladder, 2 the
// state machine.
void DrawDiagramAlone(int which, const UiFrame& frame, UiState& state);

// Lays the panels out as fixed windows filling the display (projector layout) and
// returns what was clicked. The lower area has tabs: the socket table, the TCP state
// machine and the kernel's settings and counters; the last two take more height.
std::vector<UiCommand> DrawMainLayout(const UiFrame& frame, UiState& state);

} // namespace sockscope
