#include "i18n.hpp"

#include <iterator>
#include <string_view>
#include <unordered_map>

namespace sockscope {
namespace {

// Keep the printf specifiers of each pair identical and in the same order.
constexpr TranslationPair kTable[] = {
    // layout
    {"Lesson", "课程"},
    {"System calls", "系统调用"},
    {"Listen queues (from the kernel)", "监听队列（来自内核）"},
    {"Sockets (from the kernel)", "套接字（来自内核）"},
    // lesson panel
    {"Step", "下一步"},
    {"Reset", "重置"},
    {"Play", "自动播放"},
    {"Pause", "暂停"},
    {"Steps by itself, %.0f s apart; stops at the end and when a step does not show what it claims",
     "自动逐步执行，每步间隔 %.0f 秒；课程结束或某一步与预期不符时停下"},
    {"Play speed: the pause between steps and the motions", "播放速度：步与步之间的停顿和动画的快慢"},
    {"onto port", "端口"},
    {"(now %d)", "（当前 %d）"},
    {"0 keeps the current port; another number resets onto that port", "0 表示保留当前端口；填写其他端口号则在该端口上重置"},
    {"No lesson loaded", "未加载课程"},
    {"No lesson loaded. Pick one on the left.", "未加载课程。请在左侧选择一个。"},
    {"Not started (%d steps)", "尚未开始（共 %d 步）"},
    {"Step %d of %d", "第 %d 步，共 %d 步"},
    {"Next (step %d): %s", "下一步（第 %d 步）：%s"},
    {"End of the lesson. Reset to run it again.", "课程结束。重置即可再来一遍。"},
    {"What the kernel must show:", "内核应当显示："},
    {"Seen: %s", "实际看到：%s"},
    {"The system call returned what the lesson expects", "系统调用的返回值符合课程预期"},
    {"Waiting for the kernel...", "等待内核……"},
    {"%d system calls returned what the lesson expects", "%d 个系统调用的返回值符合课程预期"},
    {"idle", "空闲"},
    {"running", "执行中"},
    {"checking", "检查中"},
    {"passed", "通过"},
    {"failed", "失败"},
    // ladder
    {"No calls yet: press Step to make the first one.", "还没有系统调用：按“下一步”发出第一个。"},
    {"No calls yet.", "还没有系统调用。"},
    {"next:", "下一个："},
    {"then:", "然后："},
    {"blocked in %s() for %d s", "阻塞在 %s() 中，已 %d 秒"},
    {"exited: a zombie until waitpid()", "已退出：在 waitpid() 之前是僵尸进程"},
    {"in the kernel", "正在内核中执行"},
    {"queued", "排队中"},
    // queues
    {"Listener", "监听套接字"},
    {"Accept queue: %u of %d places taken", "全连接队列（accept 队列）：已占用 %u / %d 个位置"},
    {"limit from the kernel: backlog %u → %d places", "上限来自内核：backlog %u → %d 个位置"},
    {"Full: the kernel drops new SYNs until accept() takes one.", "队列已满：在 accept() 取走一个连接之前，内核丢弃新的 SYN。"},
    {"SYN queue (SYN-RECEIVED): %u", "半连接队列（SYN-RECEIVED）：%u"},
    {"(empty)", "（空）"},
    {"... and %d more places", "……还有 %d 个位置"},
    {"Clients in SYN-SENT: %d. Their SYNs get no answer; they retry: %s",
     "%d 个客户端停在 SYN-SENT：它们的 SYN 被丢弃，正在重传：%s"},
    {"No listening socket yet: listen() makes one, and its queues appear here.",
     "还没有监听套接字：listen() 之后，它的队列会显示在这里。"},
    {"Accepted (accept() gave each a descriptor): %d", "已接受（accept() 为每个连接返回了描述符）：%d"},
    {"+1: the kernel calls the accept queue full only when it holds more than the backlog (%u), so %d connections fit.",
     "+1：只有当全连接队列中的连接数超过 backlog（%u）时，内核才认为队列已满，所以能容纳 %d 个连接。"},
    // socket table
    {"role", "角色"},
    {"local", "本端"},
    {"remote", "对端"},
    {"state", "状态"},
    {"queue", "队列"},
    {"fd", "描述符"},
    {"owner", "归属"},
    {"cookie", "cookie"},
    {"timer", "定时器"},
    {"no lesson loaded", "没有加载课程"},
    {"ready: %d steps, listener port %d", "就绪：共 %d 步，监听端口 %d"},
    {"making the calls", "正在进行系统调用"},
    {"Code", "代码"},
    {"(%d earlier rows not shown)", "（前面 %d 行未显示）"},
    {"%d lesson file(s) are not valid (hover)", "%d 个课程文件无效（悬停查看）"},
    {"Packets", "报文"},
    {"client", "客户端"},
    {"server", "服务器"},
    {" (inferred)", "（推断）"},
    {"Captured on the loopback interface (AF_PACKET): real seq, ack, flags and lengths.", "在回环接口上抓取（AF_PACKET）：真实的序号、确认号、标志和长度。"},
    {"No packet capture.", "没有抓包。"},
    {"No segments yet.", "还没有报文段。"},
    {"Connection %s (client) - %s (server): %d segments", "连接 %s（客户端）- %s（服务器）：%d 个报文段"},
    {"step", "步骤"},
    {"who", "谁"},
    {"C code", "C 代码"},
    {"returned", "返回值"},
    {"blocked", "阻塞"},
    {"The %s server's loop", "%s 服务器的循环"},
    {"iterative", "迭代"},
    {"fork", "fork"},
    {"thread", "多线程"},
    {"epoll", "epoll"},
    {" (blocked)", "（阻塞）"},
    {"No lesson loaded.", "没有加载课程。"},
    {"WARNING: listening on every interface: other machines on the network can connect", "警告：正在所有网络接口上监听，网络上的其他机器都可以连接"},
    {"%zu bytes waiting:", "%zu 字节在等待："},
    {"attempt %d: ", "第 %d 次尝试："},
    {"making the earlier steps again. ", "正在重新执行前面的步骤。"},
    {"Attempt %d. %s", "第 %d 次尝试。%s"},
    {"waiting for the kernel to show the expected state", "等待内核显示预期的状态"},
    {"the kernel shows what the lesson says", "内核显示的正是课程所说的"},
    {"the kernel does not show what the lesson says: see the red marks", "内核显示的与课程所说的不符：请看红色标记"},
    {"%s %.1f s (#%u)", "%s %.1f 秒（第 %u 次）"},
    {"%s %.1f s", "%s %.1f 秒"},
    {"retransmit", "重传"},
    {"keepalive", "保活"},
    {"time-wait", "TIME-WAIT"},
    {"probe", "零窗口探测"},
    {"hold segments", "拦截报文"},
    // layout tabs
    {"TCP state machine", "TCP 状态机"},
    {"Kernel settings and counters", "内核参数与计数器"},
    // the narrow layout's short tab labels (a large font on a small display)
    {"Queues", "队列"},
    {"Sockets", "套接字"},
    {"States", "状态机"},
    {"Kernel", "内核"},
    // packet gates
    {"hold %s", "拦截 %s"},
    {"holding %s", "正在拦截 %s"},
    {"handshake ACK", "握手 ACK"},
    {"gate failed: %s", "拦截设置失败：%s"},
    {"Drop the SYNs that reach this listener: new clients stay in SYN-SENT and keep resending their SYN.",
     "丢弃到达这个监听套接字的 SYN：新客户端停在 SYN-SENT，并不断重传 SYN。"},
    {"Drop the handshake's last ACK: the listener keeps the connection in SYN-RECEIVED (the SYN queue) while "
     "the client is already ESTABLISHED.",
     "丢弃握手的最后一个 ACK：监听套接字把连接留在 SYN-RECEIVED（半连接队列）中，而客户端已经是 ESTABLISHED。"},
    {"Drop FINs that reach this socket: the peer that closes stays in FIN-WAIT-1 and resends its FIN.",
     "丢弃到达这个套接字的 FIN：先关闭的对端停在 FIN-WAIT-1，并重传它的 FIN。"},
    {"Drop pure ACKs that reach this socket: after close() it stays in LAST-ACK (or CLOSING) until the gate is "
     "released.",
     "丢弃到达这个套接字的纯 ACK：close() 之后它停在 LAST-ACK（或 CLOSING），直到取消拦截。"},
    // state machine
    {"Each box: how many sockets the kernel has in that state now.", "每个方框：内核中当前处于该状态的套接字数量。"},
    {"Arrows: what arrives or is called / what is sent. Blue: taken in the last 2 s.",
     "箭头：收到的报文或调用 / 发出的报文。蓝色：最近 2 秒内发生的转换。"},
    {"The same CLOSED as at the top: the kernel has forgotten the connection.",
     "与顶部的 CLOSED 相同：内核已经忘掉了这个连接。"},
    {"timeout, RST", "超时、RST"},
    {"SYN / SYN+ACK (simultaneous open)", "SYN / SYN+ACK（同时打开）"},
    {"timeout 2MSL", "超时 2MSL"},
    // kernel settings
    {"Settings (sysctl)", "内核参数（sysctl）"},
    {"setting", "参数"},
    {"value", "值"},
    {"what it means", "含义"},
    {"cap on every listen() backlog", "所有 listen() backlog 的上限"},
    {"cap on half-done handshakes when syncookies are off", "未启用 syncookies 时，未完成握手数的上限"},
    {"1: syncookies once the SYN queue is full; 2: always", "1：半连接队列满时使用 syncookies；2：总是使用"},
    {"accept queue full: 0 drops the ACK, 1 sends RST", "全连接队列满时：0 丢弃 ACK，1 发送 RST"},
    {"SYN resends before connect() gives up", "connect() 放弃前重传 SYN 的次数"},
    {"SYN+ACK resends for a half-done handshake", "未完成的握手重传 SYN+ACK 的次数"},
    {"seconds a closed socket may stay in FIN-WAIT-2", "已关闭的套接字在 FIN-WAIT-2 中最多停留的秒数"},
    {"resends before a closed socket gives up (0: 8)", "已关闭的套接字放弃前的重传次数（0 表示 8）"},
    // kernel counters
    {"Counters (TCP)", "计数器（TCP）"},
    {"For the whole network namespace: other programs' connections count too. Amber: moved since the lesson "
     "began. Hover a name for what it counts.",
     "计数范围是整个网络命名空间：其他程序的连接也会计入。琥珀色：本课开始以来有变化。鼠标悬停在名称上可查看含义。"},
    {"The probe has not read the counters yet.", "探针还没有读取计数器。"},
    {"counter", "计数器"},
    {"total", "总计"},
    {"this lesson", "本课"},
    {"SYNs or handshake ACKs dropped because the accept queue was full", "因全连接队列已满而丢弃的 SYN 或握手 ACK"},
    {"segments a listener dropped, for any reason (ListenOverflows included)",
     "监听套接字因任何原因丢弃的报文（包括 ListenOverflows）"},
    {"SYNs dropped because the SYN queue was full and syncookies were off",
     "因半连接队列已满且未启用 syncookies 而丢弃的 SYN"},
    {"SYN queue full: answered with a syncookie instead", "半连接队列已满：改用 syncookie 应答"},
    {"SYN+ACKs sent with a syncookie (no SYN-queue entry kept)", "带 syncookie 发出的 SYN+ACK（不占半连接队列）"},
    {"ACKs carrying a valid syncookie: connections made from a cookie", "携带有效 syncookie 的 ACK：由 cookie 建立的连接"},
    {"ACKs carrying a syncookie that did not check out", "携带无效 syncookie 的 ACK"},
    {"connect() sent a SYN: CLOSED → SYN-SENT", "connect() 发出 SYN：CLOSED → SYN-SENT"},
    {"handshakes a listener completed (Linux counts the new socket)", "监听套接字完成的握手（Linux 在新套接字建立时计数）"},
    {"handshakes given up: SYN-SENT or SYN-RECEIVED back to CLOSED or LISTEN",
     "放弃的握手：SYN-SENT 或 SYN-RECEIVED 回到 CLOSED 或 LISTEN"},
    {"SYNs and SYN+ACKs sent again", "重传的 SYN 和 SYN+ACK"},
    {"retransmission timers that ran out", "到期的重传定时器"},
    {"segments sent again, of every kind", "各种重传的报文"},
    {"ESTABLISHED or CLOSE-WAIT connections ended by a reset", "被 RST 终止的 ESTABLISHED 或 CLOSE-WAIT 连接"},
    {"RST segments sent", "发出的 RST 报文"},
    {"close() with unread data: RST sent instead of FIN", "带着未读数据 close()：发送 RST 而不是 FIN"},
    {"RST sent: close() with SO_LINGER 0, or data after close()", "发送 RST：SO_LINGER 为 0 时 close()，或 close() 之后又收到数据"},
    {"close() with TCP_LINGER2 < 0: reset, no FIN-WAIT-2", "TCP_LINGER2 < 0 时 close()：直接复位，不进入 FIN-WAIT-2"},
    {"No sockets yet.", "还没有套接字。"},
    {"no fd yet", "还没有 fd"},
    {"closed", "已关闭"},
    {"other process", "其他进程"},
    {"no fd (closed)", "无 fd（已关闭）"},
    {"The kernel finished this connection; no process has a descriptor for it until accept() returns one.",
     "内核已经完成了这个连接；在 accept() 返回描述符之前，没有任何进程持有它。"},
    // status bar
    {"probe running", "探针运行中"},
    {"probe off", "探针已关闭"},
    {"probe error: %s", "探针错误：%s"},
    {"snapshots: %llu", "快照：%llu"},
    {"port: %d", "端口：%d"},
    {"port: -", "端口：-"},
    // presenter mode: the View menu, the key help, the screenshot notice
    {"View", "视图"},
    {"Scale", "缩放"},
    {"High contrast (for projectors)", "高对比度（适合投影仪）"},
    {"Fullscreen (F11)", "全屏（F11）"},
    {"Leave fullscreen (F11)", "退出全屏（F11）"},
    {"Save a screenshot (F12)", "保存截图（F12）"},
    {"Space / \xe2\x86\x92 step", "空格 / \xe2\x86\x92 下一步"},
    {"P play / pause", "P 自动播放 / 暂停"},
    {"Ctrl+= / Ctrl+- scale, Ctrl+0 reset", "Ctrl+= / Ctrl+- 缩放，Ctrl+0 还原"},
    {"F11 fullscreen", "F11 全屏"},
    {"F12 or Ctrl+S screenshot", "F12 或 Ctrl+S 截图"},
    {"saved %s", "已保存 %s"},
    {"cannot save the screenshot: %s", "无法保存截图：%s"},

    // --- the playground (issue 13): its picker entry and command line ---
    {"Playground", "自由实验"},
    {"server listen 2, client1 connect ... (Tab completes)", "server listen 2、client1 connect ……（Tab 键补全）"},
    {"Enter runs the line; Up/Down recall earlier ones; Tab completes", "回车执行这一行；上下方向键调出之前的命令；Tab 键补全"},
    // A question before a step (issue 13, part 4).
    {"Before step %d: %s", "第 %d 步之前：%s"},
    {"Right. Step to see the kernel agree.", "答对了。执行下一步，看内核是否同意。"},
    {"Not quite: the answer is \"%s\". Step to see why.", "不太对：答案是“%s”。执行下一步看看为什么。"},
    // --- end of the playground ---
};

const std::unordered_map<std::string_view, const char*>& Index()
{
    static const auto index = [] {
        std::unordered_map<std::string_view, const char*> map;
        for (const auto& t : kTable)
            map.emplace(t.En, t.Zh);
        for (const auto& t : NetTranslations())
            map.emplace(t.En, t.Zh);
        return map;
    }();
    return index;
}

} // namespace

const char* Tr(Lang lang, const char* english)
{
    if (lang != Lang::Zh)
        return english;
    const auto& index = Index();
    auto it = index.find(english);
    return it == index.end() ? english : it->second;
}

std::string AllTranslatedText()
{
    std::string all;
    for (const auto& t : kTable)
        all += t.Zh;
    for (const auto& t : NetTranslations())
        all += t.Zh;
    return all;
}

} // namespace sockscope

namespace sockscope {

std::vector<TranslationPair> Translations()
{
    std::vector<TranslationPair> all(std::begin(kTable), std::end(kTable));
    for (const auto& t : NetTranslations())
        all.push_back(t);
    return all;
}

} // namespace sockscope
