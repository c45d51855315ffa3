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
    {"%s %.1f s (#%u)", "%s %.1f 秒（第 %u 次）"},
    {"%s %.1f s", "%s %.1f 秒"},
    {"retransmit", "重传"},
    {"keepalive", "保活"},
    {"time-wait", "TIME-WAIT"},
    {"probe", "零窗口探测"},
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
};

const std::unordered_map<std::string_view, const char*>& Index()
{
    static const auto index = [] {
        std::unordered_map<std::string_view, const char*> map;
        for (const auto& t : kTable)
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
    return all;
}

} // namespace sockscope

namespace sockscope {

std::vector<TranslationPair> Translations()
{
    return std::vector<TranslationPair>(std::begin(kTable), std::end(kTable));
}

} // namespace sockscope
