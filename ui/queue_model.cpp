#include "queue_model.hpp"

#include "format.hpp"

#include <algorithm>
#include <cmath>

namespace sockscope {
namespace {

// Sockets of one row, as found: every one counted, the first few kept.
struct Found {
    int Count = 0;
    std::vector<const SocketView*> Kept;
    void Add(const SocketView& s)
    {
        ++Count;
        if (Kept.size() <= static_cast<std::size_t>(kMostBoxes))
            Kept.push_back(&s);
    }
};

std::string PortLabel(const Endpoint& client)
{
    return ":" + std::to_string(client.Port);
}

// Boxes for the first `count` of `found`, oldest first; ":?" for those the probe has not
// listed yet (the kernel's count is ahead of its rows).
std::vector<QueueBox> Boxes(Found& found, int count)
{
    std::stable_sort(found.Kept.begin(), found.Kept.end(),
                     [](const SocketView* a, const SocketView* b) { return a->FirstSeen < b->FirstSeen; });
    std::vector<QueueBox> boxes;
    for (int i = 0; i < count; ++i) {
        if (i < static_cast<int>(found.Kept.size()))
            boxes.push_back({found.Kept[i]->K.Remote, PortLabel(found.Kept[i]->K.Remote)});
        else
            boxes.push_back({Endpoint{}, ":?"});
    }
    return boxes;
}

// Smoothstep: leaves and arrives gently, so the eye can follow the box.
float Ease(double now, double start, double seconds)
{
    if (start < 0 || seconds <= 0)
        return 1.0f;
    double t = std::clamp((now - start) / seconds, 0.0, 1.0);
    return static_cast<float>(t * t * (3.0 - 2.0 * t));
}

bool Moving(double start, double now)
{
    return start >= 0 && now - start < kEaseSeconds;
}

} // namespace

bool DrawnAsBar(int places_or_count)
{
    return places_or_count > kMostBoxes;
}

ListenerQueues CollectListenerQueues(const World& world, const ListenerView& listener)
{
    ListenerQueues q;
    q.Places = AcceptQueuePlaces(listener.Backlog);
    Found syn, accept, accepted;
    for (const auto& s : world.Sockets()) {
        if (BelongsTo(s, listener)) {
            if (s.Queue == QueueKind::Syn)
                syn.Add(s);
            else if (s.Queue == QueueKind::Accept)
                accept.Add(s);
            else if (s.Fd)
                accepted.Add(s);
        } else if (s.InKernel && s.K.State == TcpState::SynSent && s.K.Remote.Port == listener.Local.Port) {
            if (q.SynSentCount++ < kMostPortsListed)
                q.SynSent.push_back(s.K.Local.Port);
        }
    }

    // The two queues' lengths are the kernel's figures; the rows only name who is in them.
    q.Syn.Count = static_cast<int>(listener.SynQueue);
    q.Syn.Bar = DrawnAsBar(q.Syn.Count);
    if (!q.Syn.Bar)
        q.Syn.Boxes = Boxes(syn, q.Syn.Count);

    q.Accept.Count = std::min(static_cast<int>(listener.AcceptQueue), q.Places);
    q.Accept.Bar = DrawnAsBar(q.Places);
    if (!q.Accept.Bar)
        q.Accept.Boxes = Boxes(accept, q.Accept.Count);

    q.Accepted.Count = accepted.Count;
    q.Accepted.Bar = DrawnAsBar(accepted.Count);
    if (!q.Accepted.Bar) {
        q.Accepted.Boxes = Boxes(accepted, accepted.Count);
        for (std::size_t i = 0; i < q.Accepted.Boxes.size(); ++i)
            q.Accepted.Boxes[i].Label += "\nfd " + std::to_string(*accepted.Kept[i]->Fd);
    }
    return q;
}

std::vector<QueuePoint> StepBoxes(QueueMotion& motion, std::uint64_t listener, const std::vector<QueueBoxPlace>& boxes,
                                  double now, bool animate, double seconds)
{
    // What the previous frame drew for this listener, by client end.
    std::vector<QueueBoxSeen> before;
    auto mine = [&](const QueueBoxSeen& seen) { return seen.Listener == listener; };
    for (const auto& seen : motion.Boxes)
        if (mine(seen))
            before.push_back(seen);
    motion.Boxes.erase(std::remove_if(motion.Boxes.begin(), motion.Boxes.end(), mine), motion.Boxes.end());
    auto by_client = [](const QueueBoxSeen& a, const QueueBoxSeen& b) { return a.Client < b.Client; };
    std::sort(before.begin(), before.end(), by_client);

    std::vector<QueuePoint> points;
    points.reserve(boxes.size());
    for (const auto& box : boxes) {
        points.push_back({box.X, box.Y});
        if (box.Client.Family == 0 || motion.Boxes.size() >= kMostBoxesFollowed)
            continue;
        QueueBoxSeen now_seen;
        now_seen.Listener = listener;
        now_seen.Client = box.Client;
        now_seen.Row = static_cast<std::uint8_t>(box.Row);
        now_seen.X = box.X;
        now_seen.Y = box.Y;
        QueueBoxSeen key;
        key.Client = box.Client;
        auto it = std::lower_bound(before.begin(), before.end(), key, by_client);
        bool known = it != before.end() && it->Client == box.Client;
        if (known && animate) {
            // Where the box was on screen in the previous frame: its place, or a point on
            // a slide not finished yet.
            float e = Ease(now, it->Start, seconds);
            QueuePoint was{it->FromX + (it->X - it->FromX) * e, it->FromY + (it->Y - it->FromY) * e};
            if (it->Row != now_seen.Row) {
                now_seen.FromX = was.X;
                now_seen.FromY = was.Y;
                now_seen.Start = now;
            } else if (it->Start >= 0 && e < 1.0f) {
                // Still on its way: towards its place as it is now (boxes before it may have left).
                now_seen.FromX = it->FromX;
                now_seen.FromY = it->FromY;
                now_seen.Start = it->Start;
            }
        }
        if (now_seen.Start >= 0) {
            float e = Ease(now, now_seen.Start, seconds);
            points.back() = {now_seen.FromX + (box.X - now_seen.FromX) * e,
                             now_seen.FromY + (box.Y - now_seen.FromY) * e};
        }
        motion.Boxes.push_back(now_seen);
    }
    return points;
}

std::vector<float> StepBars(QueueMotion& motion, std::uint64_t listener, const std::vector<QueueBarCount>& bars,
                            double now, bool animate, double seconds)
{
    std::vector<QueueBarSeen> before;
    auto mine = [&](const QueueBarSeen& seen) { return seen.Listener == listener; };
    for (const auto& seen : motion.Bars)
        if (mine(seen))
            before.push_back(seen);
    motion.Bars.erase(std::remove_if(motion.Bars.begin(), motion.Bars.end(), mine), motion.Bars.end());

    std::vector<float> shown;
    for (const auto& bar : bars) {
        QueueBarSeen seen;
        seen.Listener = listener;
        seen.Row = static_cast<std::uint8_t>(bar.Row);
        seen.From = seen.To = static_cast<float>(bar.Count);
        auto it = std::find_if(before.begin(), before.end(), [&](const QueueBarSeen& b) { return b.Row == seen.Row; });
        if (it != before.end() && animate) {
            float e = Ease(now, it->Start, seconds);
            if (it->To != seen.To) {
                seen.From = it->From + (it->To - it->From) * e;
                seen.Start = now;
            } else if (it->Start >= 0 && e < 1.0f) {
                seen.From = it->From;
                seen.Start = it->Start;
            }
        }
        shown.push_back(seen.From + (seen.To - seen.From) * Ease(now, seen.Start, seconds));
        motion.Bars.push_back(seen);
    }
    return shown;
}

void ForgetOtherListeners(QueueMotion& motion, const std::vector<ListenerView>& listeners)
{
    auto gone = [&](std::uint64_t cookie) {
        return std::none_of(listeners.begin(), listeners.end(),
                            [&](const ListenerView& l) { return l.Cookie == cookie; });
    };
    motion.Boxes.erase(std::remove_if(motion.Boxes.begin(), motion.Boxes.end(),
                                      [&](const QueueBoxSeen& b) { return gone(b.Listener); }),
                       motion.Boxes.end());
    motion.Bars.erase(std::remove_if(motion.Bars.begin(), motion.Bars.end(),
                                     [&](const QueueBarSeen& b) { return gone(b.Listener); }),
                      motion.Bars.end());
}

bool QueuesMoving(const UiState& state, double now)
{
    for (const auto& box : state.Queues.Boxes)
        if (Moving(box.Start, now))
            return true;
    for (const auto& bar : state.Queues.Bars)
        if (Moving(bar.Start, now))
            return true;
    return false;
}

} // namespace sockscope
