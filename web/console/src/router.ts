/**
 * Routes: the sign-in page, the staff page, and the shell's pages from pages.ts. The guard
 * mirrors the API: nobody signed in → sign-in; staff → the page that points them to /app/;
 * a page whose scope the person lacks → the first page they may open.
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { pages } from './pages'
import { can, isManager, loadMe } from './session'

const children: RouteRecordRaw[] = pages.map((p) => ({
  path: p.path.replace(/^\//, ''),
  name: p.name,
  component: p.component,
  meta: { scope: p.scope },
}))

export function firstPage(): string {
  return pages.find((p) => !p.scope || can(p.scope))?.name ?? 'dashboard'
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/login', name: 'login', component: () => import('./shell/LoginPage.vue'), meta: { open: true } },
    { path: '/staff', name: 'staff', component: () => import('./shell/StaffPage.vue') },
    {
      path: '/',
      component: () => import('./shell/ConsoleLayout.vue'),
      children: [{ path: '', name: 'home', redirect: () => ({ name: firstPage() }) }, ...children],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.open) return true
  let me = null
  try {
    me = await loadMe()
  } catch {
    return true // offline: show the page; its own loads say what failed
  }
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (!isManager(me)) return to.name === 'staff' ? true : { name: 'staff' }
  if (to.name === 'staff') return { name: firstPage() }
  const scope = to.meta.scope as string | undefined
  if (scope && !can(scope)) return { name: firstPage() }
  return true
})
