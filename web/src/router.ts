import { createRouter, createWebHistory } from 'vue-router'
import { canReview } from './lib/review'
import { state } from './state'
import CustomersView from './views/CustomersView.vue'
import LoginView from './views/LoginView.vue'
import MeView from './views/MeView.vue'
import PunchView from './views/PunchView.vue'
import ReviewView from './views/ReviewView.vue'
import TasksView from './views/TasksView.vue'
import TodayView from './views/TodayView.vue'
import VisitView from './views/VisitView.vue'

// Static imports: one bundle, so the cached app shell is always complete offline.
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'punch', component: PunchView },
    { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
    { path: '/customers', name: 'customers', component: CustomersView },
    {
      path: '/customers/:id',
      name: 'visit',
      component: VisitView,
      props: (r) => ({ id: String(r.params.id), visit: typeof r.query.visit === 'string' ? r.query.visit : null }),
    },
    { path: '/today', name: 'today', component: TodayView },
    { path: '/tasks', name: 'tasks', component: TasksView },
    { path: '/me', name: 'me', component: MeView },
    { path: '/review', name: 'review', component: ReviewView, meta: { review: true } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  // The window is the scroll container (the status bar is sticky, the tab bar fixed): a new
  // screen starts at the top; Back returns to where the person was.
  scrollBehavior(_to, _from, saved) {
    return saved ?? { top: 0, left: 0 }
  },
})

router.beforeEach((to) => {
  if (!to.meta.public && !state.me) return { name: 'login' }
  if (to.name === 'login' && state.me) return { name: 'punch' }
  if (to.meta.review && !canReview(state.me)) return { name: 'punch' }
  return true
})
