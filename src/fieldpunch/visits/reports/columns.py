"""The columns of the visit reports, with their Chinese and English headers (pure data).

The JSON `columns`, the CSV header and the XLSX sheet all come from these lists; keys are
stable (BI tools map them), headers follow the language. The attendance reports' `Column` is
reused so both families write through the same CSV and XLSX writers.
"""

from __future__ import annotations

from enum import StrEnum

from fieldpunch.reports.columns import Column


class VisitView(StrEnum):
    person = "person"  # 员工拜访统计: one row per person
    customer = "customer"  # 客户拜访统计: one row per customer
    not_visited = "not_visited"  # 未拜访客户: customers with no visit in N days


class PerformanceView(StrEnum):
    person = "person"  # 员工绩效
    team = "team"  # 团队绩效


_COUNTS: tuple[Column, ...] = (
    Column("total", "拜访总数", "Visits", "int", 8),
    Column("planned", "计划拜访", "Planned", "int", 8),
    Column("done", "已完成", "Done", "int", 8),
    Column("planned_done", "计划内完成", "Planned and done", "int", 10),
    Column("unplanned", "计划外拜访", "Unplanned", "int", 8),
    Column("missed", "未拜访(逾期)", "Missed", "int", 8),
    Column("cancelled", "已取消", "Cancelled", "int", 8),
    Column("in_progress", "进行中", "In progress", "int", 8),
    Column("unclosed", "未签退", "Not checked out", "int", 8),
    Column("completion_rate_pct", "计划完成率(%)", "Completion rate (%)", "number", 10),
    Column("on_time_rate_pct", "准时率(%)", "On-time rate (%)", "number", 9),
    Column("total_duration_min", "拜访总时长(分钟)", "Time at customers (min)", "int", 11),
    Column("avg_duration_min", "平均时长(分钟)", "Average visit (min)", "number", 10),
)

PERSON: tuple[Column, ...] = (
    Column("name", "姓名", "Name", "text", 14),
    Column("employee_no", "工号", "Employee no.", "text", 12),
    Column("team", "部门", "Team", "text", 16),
    *_COUNTS,
    Column("customers", "拜访客户数", "Customers visited", "int", 10),
    Column("user_id", "用户ID", "User id", "text", 14),
)

CUSTOMER: tuple[Column, ...] = (
    Column("customer", "客户", "Customer", "text", 20),
    Column("owner", "负责人", "Owner", "text", 14),
    Column("status", "客户状态", "Customer status", "text", 10),
    *_COUNTS,
    Column("people", "拜访人数", "Visitors", "int", 8),
    Column("last_visit_at", "最近拜访", "Last visit", "datetime", 17),
    Column("customer_id", "客户ID", "Customer id", "text", 14),
)

NOT_VISITED: tuple[Column, ...] = (
    Column("customer", "客户", "Customer", "text", 20),
    Column("address", "地址", "Address", "text", 24),
    Column("owner", "负责人", "Owner", "text", 14),
    Column("owner_team", "负责人部门", "Owner's team", "text", 16),
    Column("status", "客户状态", "Customer status", "text", 10),
    Column("last_visit_at", "最近拜访", "Last visit", "datetime", 17),
    Column("days_since", "未拜访天数", "Days since", "int", 9),
    Column("customer_id", "客户ID", "Customer id", "text", 14),
)

_PERFORMANCE: tuple[Column, ...] = (
    Column("planned", "计划拜访", "Planned", "int", 8),
    Column("done", "已完成", "Done", "int", 8),
    Column("completion_rate_pct", "计划完成率(%)", "Completion rate (%)", "number", 10),
    Column("on_time_rate_pct", "准时率(%)", "On-time rate (%)", "number", 9),
    Column("customers", "覆盖客户数", "Customers covered", "int", 10),
    Column("tasks_done", "完成任务", "Tasks done", "int", 8),
    Column("punches", "打卡次数", "Punches", "int", 8),
    Column("anomalies", "异常打卡", "Punches with anomalies", "int", 9),
    Column("anomaly_rate_pct", "异常率(%)", "Anomaly rate (%)", "number", 9),
    Column("customer_min", "在客户处(分钟)", "At customers (min)", "int", 11),
    Column("travel_min", "途中(分钟)", "Travelling (min)", "int", 10),
)

PERFORMANCE_PERSON: tuple[Column, ...] = (
    Column("name", "姓名", "Name", "text", 14),
    Column("employee_no", "工号", "Employee no.", "text", 12),
    Column("team", "部门", "Team", "text", 16),
    *_PERFORMANCE,
    Column("user_id", "用户ID", "User id", "text", 14),
)

PERFORMANCE_TEAM: tuple[Column, ...] = (
    Column("team", "部门", "Team", "text", 16),
    Column("people", "人数", "People", "int", 6),
    *_PERFORMANCE,
    Column("team_id", "部门ID", "Team id", "text", 14),
)

VISIT_COLUMNS: dict[VisitView, tuple[Column, ...]] = {
    VisitView.person: PERSON,
    VisitView.customer: CUSTOMER,
    VisitView.not_visited: NOT_VISITED,
}
PERFORMANCE_COLUMNS: dict[PerformanceView, tuple[Column, ...]] = {
    PerformanceView.person: PERFORMANCE_PERSON,
    PerformanceView.team: PERFORMANCE_TEAM,
}
TITLES: dict[str, tuple[str, str]] = {
    "visits.person": ("员工拜访统计", "Visits per person"),
    "visits.customer": ("客户拜访统计", "Visits per customer"),
    "visits.not_visited": ("未拜访客户", "Customers not visited"),
    "performance.person": ("员工外勤绩效", "Field performance per person"),
    "performance.team": ("团队外勤绩效", "Field performance per team"),
}
