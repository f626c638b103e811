import { createRouter, createWebHistory, type RouteMeta, type RouteRecordRaw } from 'vue-router'
import { auth } from './auth'
import { loadCaller } from './caller'

declare module 'vue-router' {
  interface RouteMeta {
    /** Page title in the nav and the document title. */
    title?: string
    /** The API operation a page needs (a row of the access table); hidden for roles without it. */
    needs?: string
    public?: boolean
    /** Listed in the shell's navigation. */
    nav?: boolean
  }
}

type Page = () => Promise<unknown>

/** A page of the shell; `nav` pages are listed in the navigation, in this order. */
function page(path: string, name: string, component: Page, meta: RouteMeta): RouteRecordRaw {
  return { path, name, component, meta, props: path.includes(':') }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./pages/Login.vue'), meta: { title: '登录', public: true } },
  {
    path: '/',
    component: () => import('./layouts/Shell.vue'),
    children: [
      page('', 'home', () => import('./pages/Home.vue'), { title: '首页' }),
      page('worklist', 'worklist', () => import('./pages/Worklist.vue'), { title: '工作台', needs: 'worklist', nav: true }),
      page('search', 'search', () => import('./pages/Search.vue'), { title: '一人一档', needs: 'searchPersons', nav: true }),
      page('child/:id', 'child', () => import('./pages/Child.vue'), { title: '一人一档', needs: 'child' }),
      page('dashboard', 'dashboard', () => import('./pages/Dashboard.vue'), { title: '区域看板', needs: 'statistics', nav: true }),
      page('inbox', 'inbox', () => import('./pages/Inbox.vue'), { title: '转介收件箱', needs: 'referralInbox', nav: true }),
      page('queue', 'queue', () => import('./pages/Queue.vue'), { title: '离线队列', needs: 'recordVisit', nav: true }),
    ],
  },
  {
    path: '/:rest(.*)*',
    name: 'not-found',
    component: () => import('./pages/NotFound.vue'),
    meta: { title: '页面不存在', public: true },
  },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  if (to.meta.public === true) return true
  if (auth.token === null) return { name: 'login', query: { next: to.fullPath } }
  await loadCaller()
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title !== undefined ? `${to.meta.title} · 守护` : '守护'
})
