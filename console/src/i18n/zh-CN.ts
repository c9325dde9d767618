/** 简体中文。键与 en.ts 一一对应。 */
import type { Messages } from "./en";

type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };

export const zhCN: Shape<Messages> = {
  app: { name: "StockLink" },
  languages: { en: "English", "zh-CN": "中文（简体）" },
  nav: {
    main: "主导航", language: "语言", board: "库存看板", warehouses: "仓库", channels: "渠道",
    alerts: "预警", replenishment: "补货", reports: "报表", openSku: "查看 SKU",
  },
  actions: {
    signIn: "登录", signOut: "退出登录", retry: "重试", search: "搜索", previous: "上一页", next: "下一页",
    more: "加载更多", exportCsv: "导出 CSV", exportXlsx: "导出 XLSX", save: "保存", edit: "编辑", open: "打开", delete: "删除",
  },
  state: { loading: "加载中…", signingIn: "正在登录…", noPage: "控制台中没有这个页面。" },
  errors: {
    missing_route: "当前 StockLink 还没有 {{route}}，因此这部分无法显示。API 提供该路由后会自动出现。",
    unauthorized: "会话已失效，请重新登录。",
    forbidden: "你的角色无权执行此操作（{{route}}）。请向管理员申请权限更高的令牌。",
    not_found: "未找到：{{message}}",
    invalid: "StockLink 拒绝了该请求：{{message}}",
    server: "StockLink 未能响应 {{route}}（HTTP {{status}}），请稍后重试。",
    network: "无法连接 StockLink。`make run` 还在运行吗？",
    unexpected: "出错了：{{message}}",
  },
  signin: {
    tokenLabel: "API 令牌",
    tokenHelp: "本地运行时：使用 `make run` 打印的开发令牌，或通过 POST /tokens 创建的角色令牌。",
    tokenRequired: "请输入令牌。",
    rejected: "该令牌未被接受。",
    unreachable: "无法连接 StockLink 来校验令牌（{{message}}）。",
    cognito: "使用公司账号登录",
    failed: "登录未完成：{{message}}",
  },
  common: { yes: "是", no: "否" },
  status: { normal: "正常", low: "低库存", zero: "缺货", over: "超储", unknown: "未知" },
  band: { healthy: "健康", watch: "关注", problem: "问题", none: "无分级" },
  level: { red: "红色", orange: "橙色", yellow: "黄色", info: "提示" },
  movement: { receive: "入库", reserve: "预占", release: "释放", commit: "确认", ship: "发货", return: "退货", adjust: "调整" },
  fields: {
    sku: "SKU", name: "名称", on_hand: "在库", reserved: "预占", available: "可用", in_transit: "在途",
    days_of_cover: "可售天数", status: "状态", abc: "ABC 分类", safety_stock: "安全库存", warehouse: "仓库",
    platform: "平台", shop: "店铺", listing: "商品", rule: "规则", computed: "计算值", pushed: "已推送",
    pushed_at: "推送时间", shown: "展示数", read_back: "回读数", read_back_at: "回读时间", in_sync: "已同步",
    why: "数字由来", when: "时间", movement: "变动", qty: "数量", on_hand_delta: "在库变化", available_delta: "可用变化",
    actor: "操作人", reason: "原因", level: "级别", title: "预警", action: "处理建议", since: "开始时间",
    reorder_point: "再订货点", stockout_date: "预计断货日", method: "方法", skus: "SKU 数",
    stock_value: "库存金额", in_transit_value: "在途金额", region: "区域", priority: "优先级",
    order: "订单", kind: "类型", received_at: "接收时间", event: "事件", last_push_at: "最近推送",
    failures: "失败次数", in_sync_of: "已同步商品", rate_limit_use: "限流占用", reconciliation_accuracy: "对账准确率",
    needs_person: "待人工处理", scope: "范围", lead_time_days: "交货期（天）", suggested_order_qty: "建议采购量",
    supplier: "供应商", unit_cost: "单价", order_cost: "采购金额", inventory_position: "库存头寸",
  },
  board: {
    title: "库存看板", filters: "筛选看板", counts: "各状态 SKU 数", total: "共 {{count}} 个 SKU", allWarehouses: "全部仓库",
    anyStatus: "全部状态", anyAbc: "全部分类", sortBy: "排序", order: "顺序", asc: "升序", desc: "降序",
    search: "SKU 或名称", searchHint: "例如 TEE-RED", page: "第 {{page}} 页",
    empty: "还没有 SKU —— 请导入库存表或登记入库（POST /stock/receipts）。",
    noMatch: "没有符合筛选条件的 SKU。",
  },
  sku: {
    title: "SKU {{sku}}", stock: "各仓库存", total: "合计", noStock: "该 SKU 暂无库存。",
    listings: "各平台商品", noListings: "该 SKU 还未在任何平台上架。",
    mode: "分配方式：{{mode}} —— {{why}}", noExplain: "当前 StockLink 尚未提供明细",
    ledger: "库存流水", noLedger: "暂无库存变动。", moreLedger: "更早的变动（已显示 {{shown}} 条）",
    forecast: "预测", noForecast: "该 SKU 暂无预测：添加后还未运行每日预测。",
    noStockout: "预计不会断货", noHistory: "预测结果未包含销售历史；图中显示预测与预计库存。",
    alerts: "未关闭的预警", noAlerts: "该 SKU 没有未关闭的预警。",
    why: {
      pool: "库存池：店铺所用仓库的可用库存", reserved: "预占：订单占用（见库存流水）",
      buffer: "缓冲：店铺分配设置保留的数量", rule: "分配规则（{{rule}}）", guard: "保护：大促或尾货保护期间保留的数量",
    },
    chart: {
      label: "{{sku}} 的预测", history: "销售历史", forecast: "预测", projected: "预计库存",
      safety: "安全库存", reorder: "再订货点", stockout: "断货",
    },
  },
  warehouses: {
    title: "仓库", chart: "各仓库存与金额", summary: "库存与金额", units: "件数", value: "金额", list: "全部仓库",
    empty: "还没有仓库 —— 用 PUT /warehouses/{id} 创建。",
  },
  channels: {
    title: "渠道", health: "各店铺同步健康度", allocation: "库存分配", allocationOf: "{{platform}} / {{shop}} 的库存分配",
    pickShop: "选择一个店铺以查看和修改其库存分配。", needsPerson: "需要人工处理的订单",
    noShops: "还没有店铺 —— 用 PUT /shops/{platform}/{shop} 接入。", noEvents: "没有待处理项。",
    events: { unmapped: "未映射订单", oversold: "超卖订单" },
  },
  allocation: {
    rule: "规则", buffer_mode: "缓冲方式", buffer: "缓冲（保留件数）", ratio: "库存池占比（0–1）", minimum: "最少展示",
    fixed: "固定数量", min_display: "至少展示", max_display: "至多展示（留空表示不限）", sellout_threshold: "售罄阈值",
    warehouses: "仓库（逗号分隔）", allWarehouses: "全部仓库", sync: "向该店铺推送库存", saved: "已保存。",
    rules: { shared: "共享库存池", quota: "按比例", fixed: "固定" },
    modes: { static: "固定", dynamic: "动态" },
  },
  validation: {
    wholeNumber: "请输入 0 或更大的整数。", tooLarge: "不能超过 1,000,000。", ratio: "请输入 0 到 1 之间的数。",
    maxBelowMin: "不能小于“至少展示”。", choose: "请从选项中选择。", required: "必填。",
    email: "请输入邮箱地址，如 ops@example.com。", phone: "请输入带国家码的手机号，如 +8613800000000。",
    https: "请输入 https:// 开头的 webhook 地址。", subscriptionId: "只能包含字母、数字、- 和 _（最多 64 个）。",
  },
  alerts: {
    title: "预警", acknowledge: "确认", empty: "这里没有预警 —— 一切正常。", subscriptions: "订阅",
    status: { open: "未关闭", unacked: "未确认", acked: "已确认", all: "全部", closed: "已关闭" },
    kinds: {
      low_stock: "低库存", overstock: "超储", oversell: "超卖", unmapped_sku: "未映射 SKU",
      order_needs_attention: "订单需处理", sync_anomaly: "同步异常", ledger_mismatch: "流水不一致",
      push_failures: "推送失败", stockout_forecast: "断货预测", demand_burst: "需求激增", slow_mover: "滞销", expiry: "临期",
    },
  },
  subscriptions: {
    id: "名称（ID）", protocol: "通知方式", endpoint: "地址", name: "备注", add: "添加订阅",
    empty: "还没有人订阅预警。",
    protocols: { email: "邮件", sms: "短信", slack: "Slack", dingtalk: "钉钉", feishu: "飞书", lark: "Lark", wecom: "企业微信" },
  },
  replenishment: {
    title: "补货", urgency: "紧急程度", urgent: "交货期内将断货", planned: "计划内",
    empty: "暂无需要采购的商品 —— 或每日预测尚未运行。",
  },
  reports: {
    title: "报表", list: "报表列表", pick: "请选择一个报表。", period: "期间", from: "开始", to: "结束",
    value: "数值", chart: "报表图表", empty: "该期间没有数据。",
    presets: { "7d": "最近 7 天", "30d": "最近 30 天", "90d": "最近 90 天", "365d": "最近 12 个月", month: "本月", custom: "自定义" },
    columns: {},
  },
};
