"""English for the UI strings of the front office (keys are the Chinese originals)."""

EN = {
    # navigation and layout
    "蓝鲸 ITSM": "BlueKing ITSM", "服务流程管理": "IT service management", "工作台": "Workbench",
    "全局视图": "All my tickets", "提单": "New ticket", "后台管理": "Admin", "退出": "Log out",
    "超级管理员": "super admin", "知识库": "Knowledge base", "运营数据": "Statistics", "语言": "Language",
    "请求管理": "Requests", "变更管理": "Changes", "事件管理": "Incidents", "问题管理": "Problems",
    "请求": "Request", "变更": "Change", "事件": "Incident", "问题": "Problem",
    # auth
    "登录": "Log in", "登录 ITSM": "Log in to ITSM", "用户名": "Username", "密码": "Password",
    # workbench
    "我的待办": "My to-do", "待认领": "To claim", "我的申请单": "My requests", "我的历史单": "My history",
    "所有单据": "All tickets", "与我相关": "Involving me", "查看全部": "View all", "最近动态": "Recent activity",
    "我的数据": "My numbers", "已提交": "Submitted", "已处理": "Handled", "待处理": "Pending",
    "平均处理时长": "Average handling time", "暂无待办": "Nothing to do", "暂无待认领的单据": "Nothing to claim",
    "还没有提交过单据": "You have not submitted any ticket yet", "暂无动态": "No activity yet",
    "暂无单据": "No tickets", "+ 提单": "+ New ticket",
    # lists
    "单号": "Number", "标题": "Title", "类型": "Type", "状态": "Status", "当前步骤": "Current step",
    "提单人": "Requester", "提单时间": "Created", "更新时间": "Updated", "服务": "Service", "全部": "All",
    "关键字": "Keyword", "单号或标题": "Number or title", "开始日期": "From", "结束日期": "To", "排序": "Sort",
    "最新提单": "Newest first", "最早提单": "Oldest first", "最近更新": "Recently updated", "按单号": "By number",
    "筛选": "Filter", "重置": "Reset", "上一页": "Previous", "下一页": "Next",
    "第 {page} / {pages} 页，共 {total} 条": "Page {page} of {pages}, {total} in all",
    # submit
    "选择服务目录和服务": "choose a catalog and a service", "服务目录": "Service catalog", "全部服务": "All services",
    "暂无服务说明": "No description", "该目录下暂无可用服务。": "No service in this catalog.",
    "将创建为单据的关联单。": "The new ticket will be linked to the ticket you came from.",
    "提交": "Submit", "取消": "Cancel",
    # ticket page
    "流程": "Flow", "结束时间": "Ended", "流程进度": "Progress", "当前步骤：": "Current step: ",
    "处理人：": "Processors: ", "处理日志": "Log", "关联单": "Related tickets", "暂无关联单": "No related ticket",
    "督办": "Supervise", "恢复": "Resume", "挂起": "Suspend", "撤单": "Withdraw", "终止单据": "Terminate ticket",
    "新建关联单": "New related ticket", "打印": "Print", "认领": "Claim", "派单": "Dispatch", "转单": "Transfer",
    "终止": "Terminate", "确认挂起": "Suspend", "确认终止": "Terminate", "确认转单": "Transfer",
    "挂起原因（必填）": "Reason for suspending (required)", "终止原因（必填）": "Reason for terminating (required)",
    "转单原因（必填）": "Reason for transferring (required)", "派单说明（可选）": "Note (optional)",
    "请选择处理人或角色": "Choose a person or a role", "个人": "People", "通用角色": "Roles",
    "等待 {who} 处理。": "Waiting for {who}.", "处理人": "processors",
    "确认督办该节点？执行督办操作后，将发送信息至处理人。": "Supervise this step? The processors will be reminded.",
    "确认撤单？撤回后单据将结束。": "Withdraw this ticket? It will end.",
    "确认终止该单据？终止后无法恢复。": "Terminate this ticket? This cannot be undone.",
    "确认终止？单据将被终止。": "Terminate? The ticket will end.",
    "已完成": "done", "进行中": "current", "未开始": "pending",
    # statuses
    "处理中": "Running", "被挂起": "Suspended", "已结束": "Finished", "被终止": "Terminated", "已撤单": "Withdrawn",
    "待分派": "To dispatch", "执行失败": "Failed",
    # errors
    "返回工作台": "Back to the workbench", "返回上一页": "Back", "没有权限": "Forbidden", "页面不存在": "Not found",
    "无": "None", "请求有误": "Bad request", "不支持的请求方式": "Method not allowed", "操作冲突": "Conflict",
    "上传内容过大": "Upload too large", "服务器内部错误": "Server error", "出错了": "Error",
    "自动执行失败：": "Automatic run failed: ", "系统自动执行中。": "Running automatically.",
    "上次失败：": "Last failure: ", "重试": "Retry", "跳过": "Skip", "跳过原因": "Reason for skipping",
    "确认跳过该节点？流程将不带它的结果继续。": "Skip this step? The flow goes on without its result.",
    # print
    "打印时间": "Printed at", "打印人": "Printed by",
    # profile (notifications)
    "个人设置": "Profile", "邮箱": "Email", "通知方式": "Notify me by", "保存": "Save",
    "邮件": "Email", "企业微信群机器人": "WeCom group robot", "日志": "Log",
    "流程的通知策略决定可用的通知方式；这里选择您愿意接收的方式。":
        "Each flow's notification policy decides which channels exist; choose the ones you want.",
    "个人设置已保存": "Profile saved", "邮箱地址格式不正确": "The email address is not valid",
    "选择邮件通知时请填写邮箱地址": "Enter an email address to be notified by email",
    "审批人": "Approver", "审批意见": "Decision", "时间": "Time", "备注": "Remark", "待审批": "Pending",
    "通过": "Approve", "拒绝": "Reject", "会签：": "Countersign: ", "全部通过": "all must approve",
    "按顺序审批": "in order", "待提交": "Pending",
    # form fields (templates/forms/_fields.html)
    "请选择": "Choose…", "添加一行": "Add a row", "是": "Yes",
    # pickers (static/js/pickers.js reads these from the page)
    "输入用户名或姓名搜索": "Type a username or name", "没有匹配的用户": "No matching user",
    "输入关键字搜索": "Type to search", "没有匹配的选项": "No matching option",
    "输入用户名、姓名或角色搜索": "Type a username, name or role", "没有匹配的处理人": "No matching processor",
}
