import streamlit as st
st.title('datasets')
