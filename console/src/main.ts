import { createApp } from 'vue'
import urql from '@urql/vue'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import 'element-plus/theme-chalk/el-loading.css'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { client, whenUnauthenticated } from './graphql/client'
import { clearToken } from './auth'
import { registerServiceWorker } from './offline/sw'
import { startQueue } from './offline/runner'

whenUnauthenticated(() => {
  clearToken()
  const here = router.currentRoute.value
  // On the login page the page itself says why the token was refused.
  if (here.name !== 'login') void router.push({ name: 'login', query: { expired: '1', next: here.fullPath } })
})

createApp(App).use(urql, client).use(router).mount('#app')
registerServiceWorker()
startQueue()
