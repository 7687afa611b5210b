/*! Faurya tracker: pageviews and goals. AGPL-3.0-only */
!function(w,d,l,n,h){
'use strict';
var me=d.currentScript||{},data=me.dataset||{},site=data.site,calls=(w.faurya||0).q||[],
store=(k,x,ss)=>{try{ss=ss?sessionStorage:localStorage;return x?ss.setItem(k,x):ss.getItem(k)}catch(e){}},
why=!site?'no data-site':
data.allowLocalhost==null&&(/^localhost$|^127\.|^\[::1\]$/.test(l.hostname)||l.protocol=='file:')?'localhost':
n.webdriver||w._phantom||w.Cypress?'automation':
store('faurya_ignore')?'faurya_ignore':
data.respectDnt!=null&&(n.doNotTrack||w.doNotTrack)==1?'Do Not Track':0;
if(why)return w.faurya=()=>{},console.warn('Faurya: not tracking ('+why+')');
var api=data.api||new URL('/api/event',me.src).href,dom=data.cookieDomain,visitor_id,session_id,last,seen,
id=(k,x,age,b,i)=>{
try{x=(d.cookie.match('(^|; )'+k+'=([\\w-]{8,64})(;|$)')||0)[2]||x}catch(e){}
if(!x)for(b=new Uint8Array(24),w.crypto&&crypto.getRandomValues(b),x='',i=0;i<24;)x+=(b[i++]+Math.random()*32&31).toString(32);
try{d.cookie=k+'='+x+';max-age='+age+';path=/;samesite=lax'+(dom?';domain='+dom:'')+(l.protocol=='https:'?';secure':'')}catch(e){}
return x
},
queued=()=>{try{return[].concat(JSON.parse(store('faurya_queue'))||[])}catch(e){return[]}},
keep=e=>store('faurya_queue',JSON.stringify(queued().concat(e).slice(-50))),
send=e=>{try{
fetch(api,{method:'POST',body:JSON.stringify(e),keepalive:!0,headers:{'content-type':'text/plain'}}).then(r=>{
r.status>499||r.status==429?keep(e):r.ok&&r.json().then(j=>j&&j.token&&store('faurya_token',w.__FAURYA_ATTRIBUTION_TOKEN__=j.token,1),Object)
},()=>keep(e))
}catch(x){}},
track=(name,props,ts)=>{
ts=Date.now();
w.__FAURYA_VISITOR_ID__=visitor_id=id('faurya_visitor_id',visitor_id,31536e3);
w.__FAURYA_SESSION_ID__=session_id=id('faurya_session_id',ts-last<18e5&&session_id,1800);
last=ts;
send({site,name,url:l.href,referrer:d.referrer||null,visitor_id,session_id,ts,props})
},
pageview=u=>{
u=l.href.split('#')[0];
u!=seen&&track('pageview',void(seen=u))
},
earlier=queued();
w.__FAURYA_ATTRIBUTION_TOKEN__=store('faurya_token',0,1);
store('faurya_queue','[]');
earlier.map(send);
pageview();
w.faurya=track;
calls.map(a=>track(...a));
['pushState','replaceState'].map(k=>{
var f=h[k];
h[k]=(...a)=>(f.apply(h,a),pageview())
});
addEventListener('popstate',pageview)
}(window,document,location,navigator,history);
