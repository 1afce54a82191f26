/**
 * The console's pages: one entry per page, in menu order. To add a page (docs/console.md):
 * write `pages/<name>/<Name>Page.vue` and `pages/<name>/messages.ts` (its words, both
 * languages, with `menu.<name>` for its menu label), then add one line here.
 *
 * `scope`: the API scope a person needs to see the page (GET /me's `scopes`); without it the
 * menu hides the page and the router refuses it, as the API would.
 */
import type { Component } from 'vue'

export interface Page {
  /** Route name and message key: `menu.<name>`. */
  name: string
  path: string
  /** An Element Plus icon component name from components/icons.ts. */
  icon: string
  component: () => Promise<Component>
  scope?: string
}

export const pages: Page[] = [
  // The home page (工作台): where the console opens after sign-in.
  { name: 'dashboard', path: '/dashboard', icon: 'Odometer', component: () => import('./pages/dashboard/DashboardPage.vue'), scope: 'punches:read' },
  { name: 'live', path: '/live', icon: 'Location', component: () => import('./pages/live/LivePage.vue'), scope: 'punches:read' },
  {
    name: 'review',
    path: '/review',
    icon: 'Checked',
    component: () => import('./pages/review/ReviewPage.vue'),
    scope: 'anomalies:review',
  },
  { name: 'places', path: '/places', icon: 'OfficeBuilding', component: () => import('./pages/places/PlacesPage.vue'), scope: 'places:read' },
  {
    name: 'attendance',
    path: '/attendance',
    icon: 'DataAnalysis',
    component: () => import('./pages/attendance/AttendancePage.vue'),
    scope: 'attendance:read',
  },
  { name: 'rosters', path: '/rosters', icon: 'Calendar', component: () => import('./pages/rosters/RostersPage.vue'), scope: 'attendance:roster' },
  { name: 'shifts', path: '/shifts', icon: 'Clock', component: () => import('./pages/shifts/ShiftsPage.vue'), scope: 'attendance:read' },
  { name: 'groups', path: '/groups', icon: 'Stamp', component: () => import('./pages/groups/GroupsPage.vue'), scope: 'attendance:read' },
  { name: 'holidays', path: '/holidays', icon: 'Sunny', component: () => import('./pages/holidays/HolidaysPage.vue'), scope: 'attendance:read' },
  { name: 'visits', path: '/visits', icon: 'Briefcase', component: () => import('./pages/visits/VisitsPage.vue'), scope: 'visits:read' },
  { name: 'routes', path: '/routes', icon: 'MapLocation', component: () => import('./pages/routes/RoutesPage.vue'), scope: 'visits:read' },
  { name: 'performance', path: '/performance', icon: 'TrendCharts', component: () => import('./pages/performance/PerformancePage.vue'), scope: 'visits:read' },
  { name: 'people', path: '/people', icon: 'User', component: () => import('./pages/people/PeoplePage.vue'), scope: 'users:read' },
  { name: 'apikeys', path: '/apikeys', icon: 'Key', component: () => import('./pages/apikeys/ApiKeysPage.vue'), scope: 'api_keys:manage' },
  { name: 'teams', path: '/teams', icon: 'Share', component: () => import('./pages/teams/TeamsPage.vue'), scope: 'teams:read' },
  { name: 'devices', path: '/devices', icon: 'Iphone', component: () => import('./pages/devices/DevicesPage.vue'), scope: 'devices:read' },
  { name: 'audit', path: '/audit', icon: 'Document', component: () => import('./pages/audit/AuditPage.vue'), scope: 'audit:read' },
  { name: 'policy', path: '/policy', icon: 'Warning', component: () => import('./pages/policy/PolicyPage.vue'), scope: 'policy:read' },
  {
    name: 'notifications',
    path: '/notifications',
    icon: 'Bell',
    component: () => import('./pages/notifications/NotificationsPage.vue'),
    scope: 'policy:read',
  },
  {
    name: 'visitsettings',
    path: '/visitsettings',
    icon: 'Tickets',
    component: () => import('./pages/visitsettings/VisitSettingsPage.vue'),
    scope: 'visits:configure',
  },
  { name: 'org', path: '/org', icon: 'Tools', component: () => import('./pages/org/OrgPage.vue'), scope: 'org:read' },
]
