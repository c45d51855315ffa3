// The Chinese of what the lab says (net/phrase.hpp): call notes, a step's verdicts, why
// capture or the probe failed. Keys are net/'s English phrases; each %s is an argument
// shown as it is (a number, a name, a TCP state, an errno name), in the same order.
#include "i18n.hpp"

#include <iterator>

namespace sockscope {
namespace {

constexpr TranslationPair kNetTable[] = {
    {"%s", "%s"},
    // call notes: actors
    {"woken by reset", "被重置唤醒"},
    {"sockscope has no descriptor free (RLIMIT_NOFILE, ulimit -n): close some or raise the limit",
     "sockscope 没有空闲的描述符（RLIMIT_NOFILE，ulimit -n）：请关闭一些，或提高上限"},
    {"the system has no file free (fs.file-max)", "系统没有空闲的文件（fs.file-max）"},
    {"no descriptor named '%s'", "没有名为“%s”的描述符"},
    {"sockscope does not know the call '%s'", "sockscope 不认识调用“%s”"},
    {"sockscope does not know the option '%s'", "sockscope 不认识选项“%s”"},
    {"the socket had the error %s pending: reading SO_ERROR clears it", "套接字上挂着错误 %s：读取 SO_ERROR 会将其清除"},
    {"unknown gate '%s'", "未知的拦截方式“%s”"},
    {"since Linux 6.x a filter on a TCP socket needs CAP_NET_ADMIN: run sockscope as root, or with "
     "--private-network",
     "从 Linux 6.x 起，在 TCP 套接字上挂过滤器需要 CAP_NET_ADMIN：请以 root 运行 sockscope，或加上 --private-network"},
    {"unknown state '%s'", "未知的状态“%s”"},
    {"went from %s to %s, not %s", "从 %s 变成了 %s，而不是 %s"},
    {"still %s after 10 s", "10 秒后仍是 %s"},
    {"inet_pton cannot read the address '%s'", "inet_pton 无法解析地址“%s”"},
    {"the listener's gate was removed from the accepted socket", "已从 accept 得到的套接字上移除监听套接字的拦截"},
    {"this process has no descriptor free (RLIMIT_NOFILE): the connection stays in the accept queue until a "
     "descriptor is closed",
     "本进程没有空闲的描述符（RLIMIT_NOFILE）：连接留在全连接队列中，直到有描述符被关闭"},
    {"the system has no file free (fs.file-max): the connection stays in the accept queue until a descriptor is "
     "closed",
     "系统没有空闲的文件（fs.file-max）：连接留在全连接队列中，直到有描述符被关闭"},
    {"end of stream: the peer sent FIN", "流结束：对端发送了 FIN"},
    {"only %s of %s bytes went out, then %s", "只发出了 %s / %s 字节，随后 %s"},
    {"this actor already runs a server loop", "这个角色已经在运行服务器循环"},
    {"unknown server model '%s' (iterative, thread, fork, epoll)", "未知的服务器模型“%s”（iterative、thread、fork、epoll）"},
    {"a server loop needs a listening socket: call listen() first", "服务器循环需要一个监听套接字：请先调用 listen()"},
    {"the %s server runs on its own lanes from now on", "%s 服务器从现在起在自己的执行线上运行"},
    {"this actor runs no fork server: waitid() only looked, it reaps nothing",
     "这个角色没有运行 fork 服务器：waitid() 只是查看，不回收任何子进程"},
    {"%s zombie(s) reaped", "回收了 %s 个僵尸进程"},
    {"getaddrinfo: %s", "getaddrinfo：%s"},
    // call notes: a server model's lanes
    {"\"bye\": the client is done, the server closes", "“bye”：客户端说完了，服务器关闭连接"},
    {"the child ends: a zombie until its parent calls waitpid()", "子进程结束：在父进程调用 waitpid() 之前是僵尸进程"},
    {"fork() returned 0: this is the child, with copies of the parent's descriptors",
     "fork() 返回 0：这是子进程，持有父进程描述符的副本"},
    {"out of descriptors: the connection stays in the accept queue", "描述符用完了：连接留在全连接队列中"},
    {"a thread of the same process: it shares every descriptor and serves fd %s",
     "同一进程中的一个线程：共享所有描述符，负责 fd %s"},
    {"the thread ends", "线程结束"},
    {"a new thread serves %s", "一个新线程负责 %s"},
    {"sockscope could not make the child's report pipe", "sockscope 无法为子进程创建报告管道"},
    {"sockscope cannot find its own binary to run the child (set SOCKSCOPE_WORKER)",
     "sockscope 找不到自己的可执行文件来运行子进程（请设置 SOCKSCOPE_WORKER）"},
    {"fork() returned the child's pid here, and 0 in the child", "fork() 在这里返回子进程的 pid，在子进程中返回 0"},
    {"exited; the kernel keeps its entry (exit status) until the parent calls waitpid()",
     "已退出；在父进程调用 waitpid() 之前，内核保留它的进程表项（退出状态）"},
    {"the zombie is reaped", "僵尸进程被回收"},
    {"the zombie is reaped: child %s exited with status %s, reaped", "僵尸进程被回收：子进程 %s 以状态 %s 退出，已回收"},
    {"the zombie is reaped: child %s killed by signal %s, reaped", "僵尸进程被回收：子进程 %s 被信号 %s 杀死，已回收"},
    {"the zombie is reaped: child %s status %s, reaped", "僵尸进程被回收：子进程 %s，状态 %s，已回收"},
    {"in the SIGCHLD handler", "在 SIGCHLD 处理函数中"},
    {"in the SIGCHLD handler: child %s exited with status %s, reaped", "在 SIGCHLD 处理函数中：子进程 %s 以状态 %s 退出，已回收"},
    {"in the SIGCHLD handler: child %s killed by signal %s, reaped", "在 SIGCHLD 处理函数中：子进程 %s 被信号 %s 杀死，已回收"},
    {"in the SIGCHLD handler: child %s status %s, reaped", "在 SIGCHLD 处理函数中：子进程 %s，状态 %s，已回收"},
    {"no child of this server has exited", "这个服务器没有已退出的子进程"},
    {"interrupted by SIGCHLD (child %s exited)", "被 SIGCHLD 打断（子进程 %s 退出）"},
    // a lane's life ("running" is with the step states in i18n.cpp)
    {"zombie", "僵尸"},
    {"exiting", "正在退出"},
    {"exited", "已退出"},
    {"reaped", "已回收"},
    // a traced program's lanes
    {"exited with status %s", "已退出，状态 %s"},
    {"killed by %s", "被 %s 杀死"},
    {"never returned: the lane ended inside it", "没有返回：执行流在调用中结束"},
    // a lesson step's verdict on a call
    {"%s: %s() blocks", "%s：%s() 阻塞"},
    {"%s: %s() returns a descriptor", "%s：%s() 返回一个描述符"},
    {"%s: %s() returns %s", "%s：%s() 返回 %s"},
    {"%s: %s() succeeds", "%s：%s() 成功"},
    {"%s: %s() fails with %s", "%s：%s() 失败，错误为 %s"},
    {"%s: %s() returns", "%s：%s() 返回"},
    {"still blocked after %s s", "%s 秒后仍然阻塞"},
    {"did not return in time", "没有按时返回"},
    {"%s matching, not %s", "%s 个符合，而不是 %s 个"},
    {"%s matching, not %s [%s]", "%s 个符合，而不是 %s 个 [%s]"},
    // packet capture
    {"no packet capture (%s): it needs CAP_NET_RAW (run as root or with --private-network); segments are inferred",
     "没有抓包（%s）：抓包需要 CAP_NET_RAW（以 root 运行，或加上 --private-network）；报文段是推断出来的"},
    {"no packet capture on lo: %s", "无法在 lo 上抓包：%s"},
    {"packet capture is off", "抓包已关闭"},
    // the probe
    {"cannot open a NETLINK_SOCK_DIAG socket: %s", "无法打开 NETLINK_SOCK_DIAG 套接字：%s"},
    {"cannot open a NETLINK_SOCK_DIAG socket: %s; this kernel has no sock_diag support",
     "无法打开 NETLINK_SOCK_DIAG 套接字：%s；这个内核不支持 sock_diag"},
    {"the dump was interrupted %s times in a row", "转储连续 %s 次被打断"},
    {"cannot send the sock_diag request: %s", "无法发送 sock_diag 请求：%s"},
    {"no reply to the sock_diag request within 1 s", "sock_diag 请求在 1 秒内没有回复"},
    {"cannot read the sock_diag reply: %s", "无法读取 sock_diag 回复：%s"},
    {"a sock_diag reply did not fit the receive buffer", "sock_diag 回复超出了接收缓冲区"},
};

} // namespace

std::vector<TranslationPair> NetTranslations()
{
    return std::vector<TranslationPair>(std::begin(kNetTable), std::end(kNetTable));
}

std::string Tr(Lang lang, const Phrase& phrase)
{
    if (phrase.Empty())
        return {};
    return FillIn(Tr(lang, phrase.Key.c_str()), phrase.Args);
}

} // namespace sockscope
