function doZoom(size){var el=document.getElementById('zoom');if(!el){return;}el.style.fontSize=size+'px';}
function showToday(id){var d=new Date(),w=['日','一','二','三','四','五','六'];
var el=document.getElementById(id);if(el){el.innerHTML='今天是'+d.getFullYear()+'年'+(d.getMonth()+1)+'月'+d.getDate()+'日 星期'+w[d.getDay()];}}
function toggleElder(){document.body.classList.toggle('elder');}
function toggleBarrier(){alert('无障碍浏览即将开启');}
