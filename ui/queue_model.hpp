// What the queue panel draws for one listener (its SYN queue, accept queue and accepted
// connections) and how their boxes and bars move from one frame to the next. No ImGui
// here: the tests check the rows, the bars and the slides without a frame.
#pragma once

#include "ui.hpp"
#include "world.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sockscope {

// The rows a connection passes through, in the order it passes: a request socket in
// SYN-RECEIVED, a connection the kernel completed that waits for accept(), and one a
// descriptor holds.
enum class QueueRow : std::uint8_t { Syn, Accept, Accepted };

// Past this many places (or connections), a row is one aggregate bar: boxes for 4,097
// places would be unreadable, and cost a frame per box.
inline constexpr int kMostBoxes = 48;
// Clients stuck in SYN-SENT named in the panel; the rest are counted.
inline constexpr int kMostPortsListed = 16;
// Boxes the panel follows from frame to frame, over every listener.
inline constexpr std::size_t kMostBoxesFollowed = 1024;

// Whether a row is drawn as a bar: the accept queue when it has more than kMostBoxes
// places (whatever is taken), the other rows when they hold more than kMostBoxes.
bool DrawnAsBar(int places_or_count);

struct QueueBox {
    Endpoint Client;      // the connection's client end; Family 0 for ":?" (the kernel counts
                          // a connection the probe has not listed yet)
    std::string Label;    // ":50123", ":50123\nfd 5" (accepted), ":?"
};

struct QueueRowView {
    int Count = 0;        // connections in the row (the kernel's figure for the two queues)
    bool Bar = false;     // drawn as a bar: Boxes is empty
    std::vector<QueueBox> Boxes; // oldest first
};

struct ListenerQueues {
    int Places = 0;       // the accept queue's places: backlog + 1
    QueueRowView Syn;     // Count: SYN-RECEIVED request sockets
    QueueRowView Accept;  // Count: taken places (at most Places)
    QueueRowView Accepted; // Count: server ends of this listener's connections that have a descriptor
    int SynSentCount = 0; // clients whose SYNs the kernel drops
    std::vector<std::uint16_t> SynSent; // the first kMostPortsListed of them
};

// The listener's rows in one pass over the world's sockets, keeping boxes only for the
// rows that are not bars (so at most kMostBoxes + 1 per row whatever the connection
// count).
ListenerQueues CollectListenerQueues(const World& world, const ListenerView& listener);

// --- motion -----------------------------------------------------------------------------
// A connection is followed by its client end (the request socket in SYN-RECEIVED and the
// socket it becomes have different cookies; the four-tuple stays).

struct QueueBoxPlace {
    Endpoint Client;      // Family 0: not followed (":?")
    QueueRow Row = QueueRow::Syn;
    float X = 0, Y = 0;   // where the box belongs this frame, from the listener's origin
};
struct QueuePoint {
    float X = 0, Y = 0;
};

// Where to draw each of a listener's boxes this frame (same order as `boxes`): at its
// place, or, when its row changed since the previous frame, on its way there from where
// it was drawn, eased over `seconds`. With `animate` false (a screenshot, a still
// picture) every box is at its place and no slide is kept. Remembers this frame's boxes
// for the next one and forgets the listener's others.
std::vector<QueuePoint> StepBoxes(QueueMotion& motion, std::uint64_t listener, const std::vector<QueueBoxPlace>& boxes,
                                  double now, bool animate, double seconds = kEaseSeconds);

struct QueueBarCount {
    QueueRow Row = QueueRow::Syn;
    int Count = 0;
};
// The count each of a listener's bars shows this frame: eased from the count it showed
// towards the new one over `seconds` (at once with `animate` false, or for a bar that was
// not drawn in the previous frame).
std::vector<float> StepBars(QueueMotion& motion, std::uint64_t listener, const std::vector<QueueBarCount>& bars,
                            double now, bool animate, double seconds = kEaseSeconds);

// Forget the boxes and bars of listeners that are gone.
void ForgetOtherListeners(QueueMotion& motion, const std::vector<ListenerView>& listeners);

} // namespace sockscope
