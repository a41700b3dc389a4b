"""UI strings that the code translates at run time, listed so `make translations-update` extracts them.

The tables below are passed to gettext as variables (`_(user.role_label)` in the templates,
`_(message)` in tipoff/errors.py), which babel's extractor cannot see. Keep this list in step
with tipoff/policy.py ROLE_LABELS and tipoff/errors.py HTTP_MESSAGES; drop an entry once its
source marks the string for extraction itself (e.g. with a no-op `N_()`).
This module is never imported: babel only reads it.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (a no-op)."""
    return message


# tipoff.policy.ROLE_LABELS
ROLE_LABELS = (
    N_("系统管理员"),
    N_("区安委会办公室（督办）"),
    N_("承办人"),
    N_("部门负责人"),
    N_("财务人员"),
    N_("保密员"),
    N_("录入员"),
)

# tipoff.errors.HTTP_MESSAGES
HTTP_MESSAGES = (
    N_("请求格式不正确。"),
    N_("请先登录。"),
    N_("您没有权限访问此页面。"),
    N_("找不到您要的页面。"),
    N_("不支持此请求方法。"),
    N_("提交的内容太大。"),
    N_("不支持此内容类型。"),
    N_("操作过于频繁，请稍后再试。"),
    N_("服务器出错，请稍后再试。您填写的内容没有丢失。"),
    N_("服务暂时不可用，请稍后再试。"),
)


# tipoff.cases.workflow (action labels, outcomes, enforcement, rejection reasons), tipoff.cases.states
# (internal and public labels), tipoff.disclosure.services.PURPOSES — checked by
# tests/test_translations.py so a new label cannot ship untranslated.
CASE_LABELS = (
    N_("受理"),
    N_("不予受理"),
    N_("移交"),
    N_("指定承办部门"),
    N_("申请延期"),
    N_("批准延期"),
    N_("办结"),
    N_("给举报人留言"),
    N_("内部备注"),
    N_("报送上级"),
    N_("上级已确认接收"),
    N_("关联为同一事项"),
    N_("并入同一事项合并办理"),
    N_("结合日常检查开展核查"),
    N_("结案"),
    N_("申请复查"),
    N_("待受理"),
    N_("核查中"),
    N_("已办结"),
    N_("复查中"),
    N_("已结案"),
    N_("已提交，等待受理"),
    N_("已受理，正在核查"),
    N_("承办部门将在 5 个工作日内决定是否受理，并在这里告诉您。"),
    N_("承办部门正在核查您反映的情况，一般在受理后 60 日内办结。"),
    N_("核查已经结束，结果见下方消息。"),
    N_("您的复查申请已收到，将在 30 日内答复。"),
    N_("本件举报已经结案。感谢您的监督。"),
    N_("您的举报未被受理，原因见下方消息。"),
    N_("属实"),
    N_("部分属实"),
    N_("不属实"),
    N_("无法查实"),
    N_("责令限期整改"),
    N_("行政处罚"),
    N_("责令停产停业"),
    N_("移送公安机关"),
    N_("移送纪委监委"),
    N_("不属于安全生产举报范围"),
    N_("举报内容不具体，无法核查"),
    N_("已经依法处理完毕，没有新的事实"),
    N_("应通过诉讼、仲裁、行政复议等途径解决"),
    N_("其他"),
    N_("联系举报人核实情况"),
    N_("支付举报奖励"),
    N_("调查需要"),
)

# tipoff.rewards.workflow (states, public texts, steps, claim and payment methods), tipoff.rewards.eligibility
REWARD_LABELS = (
    N_("撤销奖励"),
    N_("退回重新申领"),
    N_("待评定"),
    N_("举报经核查属实，奖励正在评定中。"),
    N_("待审批"),
    N_("奖励正在评定中。"),
    N_("已批准，待通知"),
    N_("已通知，待领取"),
    N_("奖励已批准，请在领取期限内选择领取方式。"),
    N_("已申领，待发放"),
    N_("已收到您的领取申请，财务正在办理发放。"),
    N_("已发放"),
    N_("奖励已发放。"),
    N_("举报人放弃"),
    N_("您已放弃领取奖励。"),
    N_("不符合奖励条件"),
    N_("经审核，本举报不符合奖励条件。"),
    N_("逾期未领"),
    N_("领取期限已过，视为放弃。"),
    N_("提出奖励建议"),
    N_("认定符合奖励条件（说明理由）"),
    N_("认定不符合奖励条件"),
    N_("批准"),
    N_("退回重新评定"),
    N_("通知举报人领奖"),
    N_("登记发放"),
    N_("延长领取期限"),
    N_("申领奖励"),
    N_("放弃奖励"),
    N_("对奖励金额提出异议"),
    N_("银行转账"),
    N_("凭编号和查询码现场领取"),
    N_("现金"),
    N_("其他"),
    N_("核查属实（R3）"),
    N_("举报前未被掌握（R3）"),
    N_("同一事项最先受理的举报人（R4、R6）"),
    N_("联名举报的领取人（R5）"),
    N_("不属于不予奖励的人员（R7）"),
)

# tipoff.rewards.exclusions.RELATIONS
EXCLUSION_RELATIONS = (
    N_("负有安全生产监管职责的工作人员"),
    N_("上述人员登记的近亲属"),
)

# tipoff.rewards.grades.GRADE_NAMES, tipoff.rewards.calculator.CATEGORY_NAMES
REWARD_NAMES = (
    N_("一般事故"),
    N_("较大事故"),
    N_("重大事故"),
    N_("特别重大事故"),
    N_("重大事故隐患"),
    N_("一般事故隐患"),
    N_("安全生产违法行为"),
    N_("瞒报、谎报、迟报、漏报生产安全事故"),
    N_("其他"),
)

# tipoff.followup.services (ratings, retaliation kinds), tipoff.enterprises (status options, hotlines),
# tipoff.oversight.views (channels, drill-down metrics)
OUTREACH_LABELS = (
    N_("满意"),
    N_("基本满意"),
    N_("不满意"),
    N_("降薪/扣发奖金"),
    N_("解除劳动合同"),
    N_("调岗"),
    N_("威胁施压"),
    N_("其他"),
    N_("在用"),
    N_("已停用"),
    N_("全部"),
    N_("政务服务便民热线"),
    N_("安全生产举报投诉热线"),
    N_("网站、二维码"),
    N_("12345 政务服务热线"),
    N_("12350 安全生产举报热线"),
    N_("电话"),
    N_("来信"),
    N_("来访"),
    N_("电子邮件"),
    N_("吹哨人回访转办"),
    N_("收到"),
    N_("受理"),
    N_("不予受理"),
    N_("办结"),
    N_("查实"),
    N_("当前逾期"),
    N_("有移交"),
    N_("申请复查"),
    # tipoff/cases/labels.py: a case history's details and evidence kinds
    N_("核查结论"),
    N_("处理措施"),
    N_("罚款（元）"),
    N_("处罚决定书文号"),
    N_("瞒报死亡人数"),
    N_("事故等级"),
    N_("理由"),
    N_("申请移交至"),
    N_("承办部门"),
    N_("在本部门停留（小时）"),
    N_("天数"),
    N_("关联案件"),
    N_("并入案件"),
    N_("同一事项"),
    N_("照片"),
    N_("PDF 文件"),
    N_("文档"),
    N_("录音"),
    N_("视频"),
    # tipoff/rewards/workflow.py EVENT_LABELS: what the system does to a reward
    N_("开始评估奖励"),
    N_("重新计算奖励"),
    N_("不再符合奖励条件"),
    N_("逾期未领取"),
    N_("发布领奖公告"),
)
