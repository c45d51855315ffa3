#include "queue_model.hpp"

#include "format.hpp"

#include <algorithm>

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

} // namespace sockscope
